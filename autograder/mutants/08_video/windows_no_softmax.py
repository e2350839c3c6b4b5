# mutant: averages raw logits and returns them (no probabilities at all)
# cell: average_over_windows
# fails: test_average_over_windows
@@
-    return torch.softmax(model(windows), dim=1).mean(dim=0)
+    return model(windows).mean(dim=0)
