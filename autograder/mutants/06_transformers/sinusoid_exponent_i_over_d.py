# mutant: exponent i / D instead of 2i / D
# cell: sinusoidal_encoding
# fails: test_sinusoidal_encoding
@@
-    frequencies = 10000.0 ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)  # [D/2]
+    frequencies = 10000.0 ** (-torch.arange(0, dim // 2, dtype=torch.float64) / dim)  # [D/2]
