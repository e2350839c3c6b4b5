# mutant: returns 1 - probability (how much is lost) instead of the probability
# cell: occlusion_map
# fails: test_occlusion_map
@@
-    return probabilities.reshape(rows, cols)
+    return 1 - probabilities.reshape(rows, cols)
