# mutant: converts the flat index with the height instead of the width
# cell: decode_heatmaps
# fails: test_argmax_keypoints
@@
-    rows = index // width
-    cols = index % width
+    rows = index // height
+    cols = index % height
