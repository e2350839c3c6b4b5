# mutant: the gradient is softmax / N, forgetting to subtract the one-hot target
# cell: softmax_cross_entropy
# fails: test_softmax_cross_entropy
@@
-    probs[rows, labels] -= 1.0
