# mutant: dW2 uses the pre-activation z1 instead of the ReLU output h
# cell: two_layer_forward_backward
# fails: test_two_layer_forward_backward
@@
-        "W2": dscores.T @ h,  # [C, H]
+        "W2": dscores.T @ z1,  # [C, H]
