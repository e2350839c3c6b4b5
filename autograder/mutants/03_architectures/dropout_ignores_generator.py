# mutant: the mask is drawn from the global generator, so a seed does not reproduce it
# cell: dropout_forward
# fails: test_dropout_train
@@
-    keep = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device) >= p  # kept with prob 1 - p
+    keep = torch.rand(x.shape, dtype=x.dtype, device=x.device) >= p
