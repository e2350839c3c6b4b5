# mutant: average pooling instead of max pooling
# cell: conv_pool_block
# fails: test_conv_pool_block_values
@@
-        nn.MaxPool2d(kernel_size=2, stride=2),  # halves H and W, rounding down
+        nn.AvgPool2d(kernel_size=2, stride=2),
