# mutant: calls the network's own forward
# cell: unet_forward
# fails: test_unet_forward
@@
-    x = net.inc(x)  # [N, base, H, W]
+    return net(x)
