# mutant: forgets the 1x1 head (returns the decoder's features)
# cell: unet_forward
# fails: test_unet_forward
@@
-    return net.head(x)  # [N, num_classes, H, W]
+    return x
