# mutant: objectness loss on the positive cells only (the empty cells never learn "no object")
# cell: detection_loss
# fails: test_detection_loss
@@
-    loss_obj = F.binary_cross_entropy_with_logits(obj, pos.to(obj.dtype), reduction="sum") / n
+    loss_obj = F.binary_cross_entropy_with_logits(obj[pos], pos[pos].to(obj.dtype), reduction="sum") / n
