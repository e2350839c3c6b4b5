# mutant: modulates by (1 - p) for every candidate, as if all were positives
# cell: focal_loss
# fails: test_focal_loss
@@
-    return alpha_t * (1 - p_t) ** gamma * ce
+    return alpha_t * (1 - p) ** gamma * ce
