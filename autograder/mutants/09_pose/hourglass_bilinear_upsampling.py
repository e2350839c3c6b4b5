# mutant: bilinear upsampling instead of nearest neighbour
# cell: hourglass
# fails: test_hourglass_forward
@@
-        return self.skip(x) + F.interpolate(lower, scale_factor=2, mode="nearest")
+        return self.skip(x) + F.interpolate(lower, scale_factor=2, mode="bilinear", align_corners=False)
