# mutant: moves the square by one pixel per position, whatever the stride
# cell: occlusion_map
# fails: test_occlusion_map
@@
-            occluded[:, i * stride:i * stride + patch, j * stride:j * stride + patch] = fill
+            occluded[:, i:i + patch, j:j + patch] = fill
