# mutant: fc layer counts only the channels of a volume as inputs
# cell: layer_table
# fails: test_layer_table_alexnet
@@
-            params = out_features * (math.prod(shape) + 1)
+            params = out_features * (shape[0] + 1)
