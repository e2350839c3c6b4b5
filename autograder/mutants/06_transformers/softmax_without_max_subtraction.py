# mutant: exp of the raw scaled scores (overflows at 1000)
# cell: softmax_with_temperature
# fails: test_softmax_with_temperature
@@
-    exp = torch.exp(scaled - scaled.max(dim=-1, keepdim=True).values)  # the row maximum becomes exp(0) = 1
+    exp = torch.exp(scaled)
