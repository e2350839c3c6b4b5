# alternative: nn.Upsample as an attribute and F.interpolate with an explicit size
# cell: hourglass
@@
         self.up = Residual(channels, channels)
+        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
@@
-        return self.skip(x) + F.interpolate(lower, scale_factor=2, mode="nearest")
+        return self.skip(x) + self.upsample(lower)
