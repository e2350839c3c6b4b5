# mutant: strict inequality: smallest C with a saving of MORE than 8
# cell: separable_conv_cost
# fails: test_min_channels_for_8x
@@
-                           if separable_conv_cost(c, c, 3, 1, 1)[2] >= 8 * separable_conv_cost(c, c, 3, 1, 1)[3])
+                           if separable_conv_cost(c, c, 3, 1, 1)[2] > 8 * separable_conv_cost(c, c, 3, 1, 1)[3])
