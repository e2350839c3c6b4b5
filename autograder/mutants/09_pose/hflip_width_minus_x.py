# mutant: mirrors with W - x (the rule for pixel edges) instead of W - 1 - x
# cell: hflip
# fails: test_hflip
@@
-    mirrored[:, 0] = width - 1 - keypoints[:, 0]
+    mirrored[:, 0] = width - keypoints[:, 0]
