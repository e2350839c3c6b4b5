# mutant: steps down the loss instead of up
# cell: pgd_attack
# fails: test_pgd_attack_values
@@
-        x = x.detach() + step_size * grad.sign()
+        x = x.detach() - step_size * grad.sign()
