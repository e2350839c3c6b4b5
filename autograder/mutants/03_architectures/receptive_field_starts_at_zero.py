# mutant: receptive field starts at 0 instead of 1 pixel
# cell: receptive_field
# fails: test_receptive_field
@@
-    rf, jump = 1, 1
+    rf, jump = 0, 1
