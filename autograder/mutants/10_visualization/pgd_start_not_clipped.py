# mutant: the random start is not clipped to [0, 1]
# cell: pgd_attack
# fails: test_pgd_attack_rules
@@
-        x = (original + (2 * u - 1) * epsilon).clamp(0.0, 1.0)
+        x = original + (2 * u - 1) * epsilon
