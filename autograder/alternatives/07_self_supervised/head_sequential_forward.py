# alternative: a ReLU module and a chained forward
# cell: projection_head
@@
-        self.fc2 = nn.Linear(hidden_dim, out_dim)
+        self.fc2 = nn.Linear(hidden_dim, out_dim)
+        self.act = nn.ReLU()
@@
-        return self.fc2(torch.relu(self.fc1(h)))
+        x = self.fc1(h)
+        x = self.act(x)
+        return self.fc2(x)
