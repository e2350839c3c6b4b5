# mutant: parameter counts without the biases
# cell: layer_table
# fails: test_layer_table_alexnet
@@
-                params = out_channels * (c * k * k + 1)
+                params = out_channels * c * k * k
@@
-            params = out_features * (math.prod(shape) + 1)
+            params = out_features * math.prod(shape)
