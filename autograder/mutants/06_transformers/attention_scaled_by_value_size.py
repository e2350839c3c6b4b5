# mutant: scales by the size of the values instead of the queries/keys
# cell: scaled_dot_product_attention
# fails: test_scaled_dot_product_attention
@@
-    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # [..., Tq, Tk]
+    scores = q @ k.transpose(-2, -1) / math.sqrt(v.shape[-1])  # [..., Tq, Tk]
