# mutant: all the sines in the first half, all the cosines in the second (not interleaved)
# cell: sinusoidal_encoding
# fails: test_sinusoidal_encoding
@@
-    pe[:, 0::2] = torch.sin(positions * frequencies)  # even columns
-    pe[:, 1::2] = torch.cos(positions * frequencies)  # odd columns
+    pe[:, :dim // 2] = torch.sin(positions * frequencies)
+    pe[:, dim // 2:] = torch.cos(positions * frequencies)
