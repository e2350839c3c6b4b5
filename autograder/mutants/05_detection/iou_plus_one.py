# mutant: old pixel-inclusive convention: widths and heights + 1
# cell: box_iou
# fails: test_box_iou_cases
@@
-    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])  # [N]
-    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])  # [M]
+    area1 = (boxes1[:, 2] - boxes1[:, 0] + 1) * (boxes1[:, 3] - boxes1[:, 1] + 1)  # [N]
+    area2 = (boxes2[:, 2] - boxes2[:, 0] + 1) * (boxes2[:, 3] - boxes2[:, 1] + 1)  # [M]
@@
-    overlap = (bottom_right - top_left).clamp(min=0)  # [N, M, 2] no overlap -> 0, not negative
+    overlap = (bottom_right - top_left + 1).clamp(min=0)  # [N, M, 2] no overlap -> 0, not negative
