# mutant: the centre's margin leaves out the jitter, so neighbours can leave the image
# cell: patch_pairs
# fails: test_patch_pairs_sampling
@@
-    margin = patch_size + gap + max_jitter
+    margin = patch_size + gap
