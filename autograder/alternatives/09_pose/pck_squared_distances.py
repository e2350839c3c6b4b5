# alternative: compares squared distances with the squared threshold, returns a 0-d tensor
# cell: pck
@@
-    distance = (predicted - target[..., :2]).norm(dim=-1)  # [N, K]
-    visible = target[..., 2] > 0
-    correct = (distance <= alpha * size[:, None]) & visible
-    return correct.sum().item() / visible.sum().item()
+    squared = ((predicted - target[..., :2]) ** 2).sum(dim=-1)  # [N, K]
+    visible = target[..., 2] > 0
+    correct = (squared <= (alpha * size[:, None]) ** 2) & visible
+    return correct[visible].float().mean()
