# mutant: mirrors x with the image height
# cell: hflip
# fails: test_hflip
@@
-    width = image.shape[-1]
+    width = image.shape[-2]
