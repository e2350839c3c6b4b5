# mutant: uses the labels 1..K as class indices (forgets the minus one); the top class wraps around
# cell: detection_loss
# fails: test_detection_loss
@@
-    loss_cls = F.cross_entropy(cls_logits, encoded["labels"][pos] - 1, reduction="sum") / n
+    loss_cls = F.cross_entropy(cls_logits, encoded["labels"][pos] % cls_logits.shape[1], reduction="sum") / n
