# mutant: one anchor per size only: forgets the aspect ratios
# cell: count_anchors
# fails: test_count_anchors
@@
-    per_position = len(sizes) * len(ratios)
+    per_position = len(sizes)
