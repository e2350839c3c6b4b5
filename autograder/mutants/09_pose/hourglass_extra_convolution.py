# mutant: adds a 1x1 convolution after the sum (parameters the design does not have)
# cell: hourglass
# fails: test_hourglass_structure test_hourglass_forward
@@
         self.up = Residual(channels, channels)
+        self.merge = nn.Conv2d(channels, channels, 1)
@@
-        return self.skip(x) + F.interpolate(lower, scale_factor=2, mode="nearest")
+        return self.merge(self.skip(x) + F.interpolate(lower, scale_factor=2, mode="nearest"))
