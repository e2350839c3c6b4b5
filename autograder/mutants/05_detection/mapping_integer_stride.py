# mutant: integer stride image_size // feature_size (16 instead of 16.13 for VGG-16)
# cell: box_mapping
# fails: test_box_mapping
@@
-    stride_y = image_size[0] / feature_size[0]
-    stride_x = image_size[1] / feature_size[1]
+    stride_y = image_size[0] // feature_size[0]
+    stride_x = image_size[1] // feature_size[1]
@@
-    sy = image_size[0] / feature_size[0]
-    sx = image_size[1] / feature_size[1]
+    sy = image_size[0] // feature_size[0]
+    sx = image_size[1] // feature_size[1]
