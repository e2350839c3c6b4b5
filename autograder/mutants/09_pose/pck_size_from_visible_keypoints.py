# mutant: measures the reference size on the visible keypoints only
# cell: pck
# fails: test_pck
@@
-    extent = target[..., :2].amax(dim=1) - target[..., :2].amin(dim=1)  # [N, 2]
+    shown = target[..., 2:] > 0
+    high = torch.where(shown, target[..., :2], torch.full_like(target[..., :2], -1e9)).amax(dim=1)
+    low = torch.where(shown, target[..., :2], torch.full_like(target[..., :2], 1e9)).amin(dim=1)
+    extent = high - low  # [N, 2]
