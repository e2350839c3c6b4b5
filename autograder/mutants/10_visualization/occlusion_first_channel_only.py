# mutant: paints the square into the first channel only
# cell: occlusion_map
# fails: test_occlusion_map
@@
-            occluded[:, i * stride:i * stride + patch, j * stride:j * stride + patch] = fill
+            occluded[0, i * stride:i * stride + patch, j * stride:j * stride + patch] = fill
