# mutant: forgets the padding, so every 3D convolution shrinks T, H and W by 2
# cell: conv3d_block
# fails: test_conv3d_block_structure test_conv3d_block_values
@@
-        nn.Conv3d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
+        nn.Conv3d(in_channels, out_channels, kernel_size=3, bias=False),
