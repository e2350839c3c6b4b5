# mutant: returns the mean instead of the elementwise loss
# cell: focal_loss
# fails: test_focal_loss
@@
-    return alpha_t * (1 - p_t) ** gamma * ce
+    return (alpha_t * (1 - p_t) ** gamma * ce).mean()
