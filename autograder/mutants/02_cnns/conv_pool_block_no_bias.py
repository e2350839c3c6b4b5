# mutant: the convolution without a bias
# cell: conv_pool_block
# fails: test_conv_pool_block_shapes test_conv_pool_block_values
@@
-        nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding),  # [N, out, H + 2p - k + 1, ...]
+        nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding, bias=False),
