# mutant: scores only visible keypoints (v = 2), ignoring the labelled hidden ones
# cell: oks
# fails: test_oks
@@
-    labelled = target[:, 2] > 0
+    labelled = target[:, 2] > 1
