# mutant: weights every candidate by alpha (forgets 1 - alpha for the negatives)
# cell: focal_loss
# fails: test_focal_loss
@@
-    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
+    alpha_t = alpha
