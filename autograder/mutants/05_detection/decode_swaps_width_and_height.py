# mutant: decode scales the width with the anchor height and vice versa
# cell: box_coding
# fails: test_box_coding
@@
-    half_w = torch.exp(deltas[:, 2]) * wa / 2
-    half_h = torch.exp(deltas[:, 3]) * ha / 2
+    half_w = torch.exp(deltas[:, 2]) * ha / 2
+    half_h = torch.exp(deltas[:, 3]) * wa / 2
