# mutant: the backward pass ignores the ReLU (passes the gradient through inactive units)
# cell: two_layer_forward_backward
# fails: test_two_layer_forward_backward
@@
-    dz1 = dh * (z1 > 0)  # [N, H]: the ReLU lets the gradient through where it was active
+    dz1 = dh  # [N, H]
