# mutant: one pass: only the best box suppresses, never the later kept ones
# cell: nms
# fails: test_nms
@@
-        removed |= overlaps[i] > iou_threshold
+        if i == ranked[0]:
+            removed |= overlaps[i] > iou_threshold
+            removed[i] = False
