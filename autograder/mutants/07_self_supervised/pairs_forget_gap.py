# mutant: the step between patches forgets the gap
# cell: patch_pairs
# fails: test_patch_pairs_layout
@@
-    return centre, centre + steps * (patch_size + gap) + jitter, labels
+    return centre, centre + steps * patch_size + jitter, labels
