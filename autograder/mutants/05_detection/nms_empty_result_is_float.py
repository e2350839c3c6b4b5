# mutant: torch.tensor(kept) without a dtype: an empty result is float32, not int64
# cell: nms
# fails: test_nms
@@
-    return torch.tensor(kept, dtype=torch.int64, device=boxes.device)
+    return torch.tensor(kept)
