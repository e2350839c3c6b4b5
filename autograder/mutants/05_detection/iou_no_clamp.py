# mutant: the intersection is not clamped at 0 (boxes apart in x and y get a positive IoU)
# cell: box_iou
# fails: test_box_iou_cases
@@
-    overlap = (bottom_right - top_left).clamp(min=0)  # [N, M, 2] no overlap -> 0, not negative
+    overlap = bottom_right - top_left  # [N, M, 2] no overlap -> 0, not negative
