# mutant: masks where the mask is True (the opposite convention)
# cell: scaled_dot_product_attention
# fails: test_scaled_dot_product_attention
@@
-        scores = scores.masked_fill(~mask, float("-inf"))
+        scores = scores.masked_fill(mask, float("-inf"))
