# mutant: hands the work to the course's DetectionLoss through a fake target list
# cell: detection_loss
# fails: test_detection_loss
@@
-    pos = encoded["positive"]  # [B, S_h, S_w] bool
+    return DetectionLoss.forward(type("L", (), {"config": None, "class_weight": class_weight,
+                                                "box_weight": box_weight})(), outputs, encoded)
+    pos = encoded["positive"]  # [B, S_h, S_w] bool
