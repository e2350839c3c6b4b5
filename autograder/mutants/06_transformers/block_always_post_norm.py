# mutant: ignores pre_norm and always normalizes after the residual sum
# cell: transformer_block
# fails: test_transformer_block_values
@@
-        if self.pre_norm:
+        if False:
