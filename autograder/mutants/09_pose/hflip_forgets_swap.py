# mutant: mirrors the coordinates but forgets to swap left and right
# cell: hflip
# fails: test_hflip
@@
-    return image.flip(-1), mirrored[order]
+    return image.flip(-1), mirrored
