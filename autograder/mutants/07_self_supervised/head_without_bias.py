# mutant: linear layers without bias
# cell: projection_head
# fails: test_projection_head
@@
-        self.fc1 = nn.Linear(in_dim, hidden_dim)
-        self.fc2 = nn.Linear(hidden_dim, out_dim)
+        self.fc1 = nn.Linear(in_dim, hidden_dim, bias=False)
+        self.fc2 = nn.Linear(hidden_dim, out_dim, bias=False)
