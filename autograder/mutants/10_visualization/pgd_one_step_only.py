# mutant: takes a single step whatever steps says
# cell: pgd_attack
# fails: test_pgd_attack_rules test_pgd_attack_values
@@
-    for _ in range(steps):
+    for _ in range(min(steps, 1) if steps else 1):
