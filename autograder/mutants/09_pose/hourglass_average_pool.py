# mutant: average pooling instead of max pooling
# cell: hourglass
# fails: test_hourglass_forward
@@
-        lower = self.up(self.inner(self.down(F.max_pool2d(x, 2))))
+        lower = self.up(self.inner(self.down(F.avg_pool2d(x, 2))))
