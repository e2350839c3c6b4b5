# mutant: output size forgets the +1
# cell: layer_table
# fails: test_layer_table_alexnet
@@
-            shape = (out_channels, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
+            shape = (out_channels, (h + 2 * p - k) // s, (w + 2 * p - k) // s)
