# mutant: cosine in the even columns, sine in the odd ones
# cell: sinusoidal_encoding
# fails: test_sinusoidal_encoding
@@
-    pe[:, 0::2] = torch.sin(positions * frequencies)  # even columns
-    pe[:, 1::2] = torch.cos(positions * frequencies)  # odd columns
+    pe[:, 0::2] = torch.cos(positions * frequencies)
+    pe[:, 1::2] = torch.sin(positions * frequencies)
