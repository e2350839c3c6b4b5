# mutant: softmax over the queries (dim -2) instead of the keys
# cell: scaled_dot_product_attention
# fails: test_scaled_dot_product_attention
@@
-    weights = scores.softmax(dim=-1)  # [..., Tq, Tk]
+    weights = scores.softmax(dim=-2)  # [..., Tq, Tk]
