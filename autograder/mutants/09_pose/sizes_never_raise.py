# mutant: pools odd sides without complaint
# cell: hourglass_sizes
# fails: test_hourglass_sizes
@@
-        if side % 2 != 0:
-            raise ValueError(f"a {side}-pixel map cannot be pooled and upsampled back to its size")
+        pass
