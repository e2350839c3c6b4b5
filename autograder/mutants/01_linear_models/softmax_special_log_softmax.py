# mutant: the loss from torch.special.log_softmax, an alias of the forbidden F.log_softmax
# cell: softmax_cross_entropy
# fails: test_softmax_cross_entropy
@@
-    loss = (torch.log(sum_exp).squeeze(1) - shifted[rows, labels]).mean()
+    loss = -torch.special.log_softmax(scores, dim=1)[rows, labels].mean()
