# alternative: builds the two convolutions (without biases) and counts their weights
# cell: conv2plus1d_parameters
@@
-    return mid_channels * in_channels * kernel_s ** 2 + out_channels * mid_channels * kernel_t
+    spatial = nn.Conv3d(in_channels, mid_channels, (1, kernel_s, kernel_s), bias=False, device="meta")
+    temporal = nn.Conv3d(mid_channels, out_channels, (kernel_t, 1, 1), bias=False, device="meta")
+    return spatial.weight.numel() + temporal.weight.numel()
