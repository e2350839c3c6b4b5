# mutant: writes the mirrored x into the caller's keypoints (no copy)
# cell: hflip
# fails: test_hflip
@@
-    mirrored = keypoints.clone()
+    mirrored = keypoints
