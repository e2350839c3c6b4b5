# mutant: batch statistics detached: gradients ignore that they depend on x
# cell: batch_norm_forward
# fails: test_batch_norm_train
@@
-        mean = x.mean(dim=dims)  # [C]
-        var = x.var(dim=dims, unbiased=False)  # [C], biased: normalizes this batch
+        mean = x.mean(dim=dims).detach()
+        var = x.var(dim=dims, unbiased=False).detach()
