# mutant: averages over the wrong axis (the classes, not the windows)
# cell: average_over_windows
# fails: test_average_over_windows
@@
-    return torch.softmax(model(windows), dim=1).mean(dim=0)
+    return torch.softmax(model(windows), dim=1).mean(dim=1)
