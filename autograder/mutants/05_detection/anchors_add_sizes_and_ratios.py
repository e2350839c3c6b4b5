# mutant: adds sizes and ratios instead of taking every combination
# cell: count_anchors
# fails: test_count_anchors
@@
-    per_position = len(sizes) * len(ratios)
+    per_position = len(sizes) + len(ratios)
