# mutant: steps along the gradient itself instead of its sign
# cell: pgd_attack
# fails: test_pgd_attack_rules test_pgd_attack_values
@@
-        x = x.detach() + step_size * grad.sign()
+        x = x.detach() + step_size * grad
