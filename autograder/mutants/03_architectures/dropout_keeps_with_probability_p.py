# mutant: p read as the probability of keeping an entry
# cell: dropout_forward
# fails: test_dropout_train
@@
-    keep = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device) >= p  # kept with prob 1 - p
-    return x * keep / (1.0 - p)
+    keep = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device) < p
+    return x * keep / p
