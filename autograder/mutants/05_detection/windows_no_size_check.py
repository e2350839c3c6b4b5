# mutant: no check that the window fits: two negative counts multiply to a positive one
# cell: count_sliding_windows
# fails: test_count_sliding_windows
@@
-        if h <= height and w <= width:  # a larger window has no valid position (not a negative count)
-            total += ((height - h) // stride + 1) * ((width - w) // stride + 1)
+        total += ((height - h) // stride + 1) * ((width - w) // stride + 1)
