# mutant: a ReLU in the MLP instead of the GELU the prompt asks for
# cell: transformer_block
# fails: test_transformer_block_values
@@
-        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
+        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))
