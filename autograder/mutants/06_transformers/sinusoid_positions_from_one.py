# mutant: positions 1..P instead of 0..P-1
# cell: sinusoidal_encoding
# fails: test_sinusoidal_encoding
@@
-    positions = torch.arange(num_positions, dtype=torch.float64)[:, None]  # [P, 1]
+    positions = torch.arange(1, num_positions + 1, dtype=torch.float64)[:, None]  # [P, 1]
