# mutant: the loss is a mean but the gradient forgets to divide by N
# cell: softmax_cross_entropy
# fails: test_softmax_cross_entropy
@@
-    return loss, probs / n
+    return loss, probs
