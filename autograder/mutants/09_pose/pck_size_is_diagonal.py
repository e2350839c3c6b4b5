# mutant: uses the diagonal of the keypoint box as the reference size
# cell: pck
# fails: test_pck
@@
-    size = extent.amax(dim=1)  # [N] the longer side of the keypoint box
+    size = extent.norm(dim=1)  # [N]
