# mutant: the layers are stored under other names
# cell: projection_head
# fails: test_projection_head
@@
-        self.fc1 = nn.Linear(in_dim, hidden_dim)
-        self.fc2 = nn.Linear(hidden_dim, out_dim)
+        self.layers = nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, out_dim))
@@
-        return self.fc2(torch.relu(self.fc1(h)))
+        return self.layers(h)
