# mutant: forgets to divide the scores by sqrt(d)
# cell: scaled_dot_product_attention
# fails: test_scaled_dot_product_attention
@@
-    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # [..., Tq, Tk]
+    scores = q @ k.transpose(-2, -1)  # [..., Tq, Tk]
