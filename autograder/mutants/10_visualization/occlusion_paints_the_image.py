# mutant: paints into the image itself (no copy): the squares pile up, and the caller's image changes
# cell: occlusion_map
# fails: test_occlusion_map
@@
-            occluded = image.clone()
+            occluded = image
