# mutant: suppresses with >= (a box at exactly the threshold is removed)
# cell: nms
# fails: test_nms
@@
-        removed |= overlaps[i] > iou_threshold
+        removed |= overlaps[i] >= iou_threshold
