# mutant: ignores the depth: the inner block is always a residual (no recursion)
# cell: hourglass
# fails: test_hourglass_structure test_hourglass_forward
@@
-        self.inner = Hourglass(depth - 1, channels) if depth > 1 else Residual(channels, channels)
+        self.inner = Residual(channels, channels)
