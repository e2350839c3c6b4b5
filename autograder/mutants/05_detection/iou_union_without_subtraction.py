# mutant: the union forgets to subtract the intersection
# cell: box_iou
# fails: test_box_iou_cases
@@
-    union = area1[:, None] + area2[None, :] - inter  # [N, M]
+    union = area1[:, None] + area2[None, :]  # [N, M]
