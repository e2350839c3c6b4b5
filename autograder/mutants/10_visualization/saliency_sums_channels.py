# mutant: sums the absolute gradient over the channels instead of taking the maximum
# cell: saliency_map
# fails: test_saliency_map
@@
-    return grad.abs().amax(dim=1)
+    return grad.abs().sum(dim=1)
