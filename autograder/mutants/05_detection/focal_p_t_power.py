# mutant: modulates by p_t ** gamma instead of (1 - p_t) ** gamma (focuses on the easy cases)
# cell: focal_loss
# fails: test_focal_loss
@@
-    return alpha_t * (1 - p_t) ** gamma * ce
+    return alpha_t * p_t ** gamma * ce
