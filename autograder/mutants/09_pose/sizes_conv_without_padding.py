# mutant: forgets the padding of the 7x7 convolution
# cell: hourglass_sizes
# fails: test_hourglass_sizes
@@
-    side = (image_size + 2 * 3 - 7) // 2 + 1  # 7x7 convolution, stride 2, padding 3
+    side = (image_size - 7) // 2 + 1  # 7x7 convolution, stride 2
