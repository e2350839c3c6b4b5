# mutant: the hinge sum includes j = y, adding the margin once per example
# cell: hinge_loss
# fails: test_hinge_loss
@@
-    margins[rows, labels] = 0  # the correct class is not a violation of itself
@@
-    dscores = violated
+    violated[rows, labels] = 0
+    dscores = violated.clone()
