# mutant: multiplies by the temperature
# cell: nt_xent_loss
# fails: test_nt_xent_cases test_nt_xent_random
@@
-    logits = z @ z.T / temperature  # [2N, 2N]
+    logits = z @ z.T * temperature  # [2N, 2N]
