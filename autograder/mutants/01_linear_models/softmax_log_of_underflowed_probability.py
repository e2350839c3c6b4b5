# mutant: subtracts the row maximum but takes -log(p) of a probability that underflowed to 0 (loss inf)
# cell: softmax_cross_entropy
# fails: test_softmax_cross_entropy
@@
     rows = torch.arange(n)
-    loss = (torch.log(sum_exp).squeeze(1) - shifted[rows, labels]).mean()
     probs = exp_shifted / sum_exp  # [N, C]
+    loss = -torch.log(probs[rows, labels]).mean()
