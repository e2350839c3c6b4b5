# mutant: divides by the number of positives without the max(P, 1) guard
# cell: detection_loss
# fails: test_detection_loss
@@
-    n = max(int(pos.sum()), 1)
+    n = int(pos.sum())
