# mutant: the random start moves pixels up only (u * epsilon instead of (2u - 1) * epsilon)
# cell: pgd_attack
# fails: test_pgd_attack_rules test_pgd_attack_values
@@
-        x = (original + (2 * u - 1) * epsilon).clamp(0.0, 1.0)
+        x = (original + u * epsilon).clamp(0.0, 1.0)
