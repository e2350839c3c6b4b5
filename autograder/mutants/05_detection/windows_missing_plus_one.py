# mutant: the lecture's formula (H - h)(W - w): no +1
# cell: count_sliding_windows
# fails: test_count_sliding_windows
@@
-            total += ((height - h) // stride + 1) * ((width - w) // stride + 1)
+            total += ((height - h) // stride) * ((width - w) // stride)
