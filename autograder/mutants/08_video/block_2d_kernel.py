# mutant: a 1 x 3 x 3 kernel: a 2D convolution of every frame, no mixing in time
# cell: conv3d_block
# fails: test_conv3d_block_structure test_conv3d_block_values
@@
-        nn.Conv3d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
+        nn.Conv3d(in_channels, out_channels, kernel_size=(1, 3, 3), padding=(0, 1, 1), bias=False),
