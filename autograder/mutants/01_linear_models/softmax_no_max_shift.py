# mutant: softmax without subtracting the row maximum (overflows for large scores)
# cell: softmax_cross_entropy
# fails: test_softmax_cross_entropy
@@
-    shifted = scores - scores.max(dim=1, keepdim=True).values  # [N, C], every entry <= 0
+    shifted = scores  # [N, C]
