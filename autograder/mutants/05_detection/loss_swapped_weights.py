# mutant: puts class_weight on the box term and box_weight on the class term
# cell: detection_loss
# fails: test_detection_loss
@@
-    return loss_obj + class_weight * loss_cls + box_weight * loss_box
+    return loss_obj + box_weight * loss_cls + class_weight * loss_box
