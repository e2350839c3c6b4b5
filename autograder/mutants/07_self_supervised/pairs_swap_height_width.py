# mutant: rows drawn within the width and columns within the height
# cell: patch_pairs
# fails: test_patch_pairs_sampling
@@
-    height, width = image_size
+    width, height = image_size
