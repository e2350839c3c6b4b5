# mutant: forgets the residual around attention (pre-norm)
# cell: transformer_block
# fails: test_transformer_block_values
@@
-            x = x + attention(self.norm1(x))
+            x = attention(self.norm1(x))
