# mutant: the correct class gets -1 instead of -(number of violating classes)
# cell: hinge_loss
# fails: test_hinge_loss
@@
-    violated = (margins > 0).to(scores.dtype)  # [N, C]
-    dscores = violated
-    dscores[rows, labels] = -violated.sum(dim=1)
+    dscores = (margins > 0).to(scores.dtype)
+    dscores[rows, labels] = -(dscores.sum(dim=1) > 0).to(scores.dtype)
