# mutant: true division: a float count (and wrong with a stride)
# cell: count_sliding_windows
# fails: test_count_sliding_windows
@@
-            total += ((height - h) // stride + 1) * ((width - w) // stride + 1)
+            total += ((height - h) / stride + 1) * ((width - w) / stride + 1)
