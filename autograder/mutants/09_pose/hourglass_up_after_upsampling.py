# mutant: applies the `up` block after upsampling, at full resolution
# cell: hourglass
# fails: test_hourglass_forward
@@
-        lower = self.up(self.inner(self.down(F.max_pool2d(x, 2))))
-        return self.skip(x) + F.interpolate(lower, scale_factor=2, mode="nearest")
+        lower = self.inner(self.down(F.max_pool2d(x, 2)))
+        return self.skip(x) + self.up(F.interpolate(lower, scale_factor=2, mode="nearest"))
