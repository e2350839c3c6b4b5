# mutant: swaps the coordinates of each pair but leaves the visibility flags in place
# cell: hflip
# fails: test_hflip
@@
-    return image.flip(-1), mirrored[order]
+    swapped = mirrored.clone()
+    swapped[:, :2] = mirrored[order, :2]
+    return image.flip(-1), swapped
