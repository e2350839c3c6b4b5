# mutant: keeps the sign of the gradient (max of the signed values)
# cell: saliency_map
# fails: test_saliency_map
@@
-    return grad.abs().amax(dim=1)
+    return grad.amax(dim=1)
