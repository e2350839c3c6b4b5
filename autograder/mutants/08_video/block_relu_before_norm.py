# mutant: ReLU before the batch norm
# cell: conv3d_block
# fails: test_conv3d_block_values
@@
-        nn.BatchNorm3d(out_channels),
-        nn.ReLU(),
+        nn.ReLU(),
+        nn.BatchNorm3d(out_channels),
