# mutant: scales the scores by sqrt(D) instead of sqrt(D / h), the size of a head
# cell: transformer_block
# fails: test_transformer_block_values
@@
-            weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d // self.num_heads), dim=-1)  # [B, h, T, T]
+            weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d), dim=-1)  # [B, h, T, T]
