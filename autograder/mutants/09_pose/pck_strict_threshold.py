# mutant: a keypoint exactly at alpha * size does not count (strict inequality)
# cell: pck
# fails: test_pck
@@
-    correct = (distance <= alpha * size[:, None]) & visible
+    correct = (distance < alpha * size[:, None]) & visible
