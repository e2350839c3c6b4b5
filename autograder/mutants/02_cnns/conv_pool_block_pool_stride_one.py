# mutant: MaxPool2d(2, stride=1), so the resolution is not halved
# cell: conv_pool_block
# fails: test_conv_pool_block_shapes
@@
-        nn.MaxPool2d(kernel_size=2, stride=2),  # halves H and W, rounding down
+        nn.MaxPool2d(kernel_size=2, stride=1),
