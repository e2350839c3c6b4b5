# mutant: average pooling instead of max pooling
# cell: conv3d_block
# fails: test_conv3d_block_values
@@
-        nn.MaxPool3d(pool),
+        nn.AvgPool3d(pool),
