# mutant: never pads the input (sizes computed with padding)
# cell: im2col
# fails: test_im2col
@@
-    xp = F.pad(x, (padding, padding, padding, padding))  # [N, C, H + 2p, W + 2p]
+    xp = x  # [N, C, H + 2p, W + 2p]
