# mutant: per-class NMS that ignores the labels (classes suppress each other)
# cell: nms
# fails: test_batched_nms
@@
-    for label in torch.unique(labels).tolist():
-        members = torch.nonzero(labels == label).flatten()  # indices of this class
+    for label in [0]:
+        members = torch.arange(len(labels))
