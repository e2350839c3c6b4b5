# mutant: keeps the skip after pooling instead of before
# cell: unet_forward
# fails: test_unet_forward
@@
-        skips.append(x)  # the skip of this level, before pooling
-        x = block(net.pool(x))  # [N, 2c, h/2, w/2]
+        x = net.pool(x)
+        skips.append(x)
+        x = block(x)  # [N, 2c, h/2, w/2]
