# mutant: the loss is a mean but the gradient forgets to divide by N
# cell: hinge_loss
# fails: test_hinge_loss
@@
-    violated = (margins > 0).to(scores.dtype)  # [N, C]
-    dscores = violated
-    dscores[rows, labels] = -violated.sum(dim=1)
-    return loss, dscores / n
+    dscores = (margins > 0).to(scores.dtype)
+    dscores[rows, labels] = -dscores.sum(dim=1)
+    return loss, dscores
