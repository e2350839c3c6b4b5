# mutant: puts a one at the remembered positions instead of the value (the CS282 notes' wording)
# cell: max_unpool
# fails: test_max_unpool
@@
-    planes.scatter_(2, indices.flatten(2), x.flatten(2))  # value k of each plane -> position indices[k]
+    planes.scatter_(2, indices.flatten(2), torch.ones_like(x).flatten(2))
