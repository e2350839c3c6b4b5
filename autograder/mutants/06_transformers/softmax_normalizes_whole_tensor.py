# mutant: divides by the sum over the whole tensor, not over each row
# cell: softmax_with_temperature
# fails: test_softmax_with_temperature
@@
-    return exp / exp.sum(dim=-1, keepdim=True)
+    return exp / exp.sum()
