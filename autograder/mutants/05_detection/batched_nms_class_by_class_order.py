# mutant: returns the kept boxes class by class instead of by decreasing score
# cell: nms
# fails: test_batched_nms
@@
-    survivors = torch.cat(survivors).sort().values  # by index, so the stable sort below breaks ties by index
-    return survivors[torch.sort(scores[survivors], descending=True, stable=True).indices]
+    return torch.cat(survivors)
