# mutant: the positive of view a taken as view a + N - 1
# cell: nt_xent_loss
# fails: test_nt_xent_cases test_nt_xent_random
@@
-    positives = (torch.arange(2 * n, device=z.device) + n) % (2 * n)  # [2N]
+    positives = (torch.arange(2 * n, device=z.device) + n - 1) % (2 * n)  # [2N]
