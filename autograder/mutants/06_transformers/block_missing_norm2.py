# mutant: one LayerNorm shared by both sub-layers (no norm2)
# cell: transformer_block
# fails: test_transformer_block_structure
@@
-        self.norm2 = nn.LayerNorm(dim)
+        self.norm2 = self.norm1
