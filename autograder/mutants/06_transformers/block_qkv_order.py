# mutant: reads the qkv output as [k | q | v]
# cell: transformer_block
# fails: test_transformer_block_values
@@
-            q, k, v = self.qkv(z).chunk(3, dim=-1)  # 3 x [B, T, D]
+            k, q, v = self.qkv(z).chunk(3, dim=-1)  # 3 x [B, T, D]
