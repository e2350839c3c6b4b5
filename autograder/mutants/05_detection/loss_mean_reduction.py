# mutant: averages every term (reduction="mean") instead of summing and dividing by the number of objects
# cell: detection_loss
# fails: test_detection_loss
@@
-    loss_obj = F.binary_cross_entropy_with_logits(obj, pos.to(obj.dtype), reduction="sum") / n
+    loss_obj = F.binary_cross_entropy_with_logits(obj, pos.to(obj.dtype))
