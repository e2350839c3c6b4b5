# mutant: bias gradients averaged over the batch instead of summed
# cell: two_layer_forward_backward
# fails: test_two_layer_forward_backward
@@
-        "b2": dscores.sum(dim=0),  # [C]
+        "b2": dscores.mean(dim=0),  # [C]
@@
-        "b1": dz1.sum(dim=0),  # [H]
+        "b1": dz1.mean(dim=0),  # [H]
