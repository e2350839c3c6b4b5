# mutant: returns only the upsampled lower branch (the skip branch is built but not added)
# cell: hourglass
# fails: test_hourglass_forward
@@
-        return self.skip(x) + F.interpolate(lower, scale_factor=2, mode="nearest")
+        return F.interpolate(lower, scale_factor=2, mode="nearest")
