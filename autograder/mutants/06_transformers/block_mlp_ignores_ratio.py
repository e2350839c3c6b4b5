# mutant: the MLP is always 4 times wider, whatever mlp_ratio says
# cell: transformer_block
# fails: test_transformer_block_structure test_transformer_block_values
@@
-        hidden = int(dim * mlp_ratio)
+        hidden = 4 * dim
