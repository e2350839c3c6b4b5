# mutant: the ReLU is forgotten (shapes and parameter counts still right)
# cell: conv_pool_block
# fails: test_conv_pool_block_values
@@
         nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding),  # [N, out, H + 2p - k + 1, ...]
-        nn.ReLU(),
         nn.MaxPool2d(kernel_size=2, stride=2),  # halves H and W, rounding down
