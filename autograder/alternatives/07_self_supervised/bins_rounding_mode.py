# alternative: torch.div with rounding_mode="floor", clamp with min/max tensors
# cell: ab_to_bin
@@
-    index = torch.floor((ab + ab_max) / grid_size).long().clamp(0, n - 1)  # [N, 2, H, W]
-    return index[:, 0] * n + index[:, 1]
+    index = torch.div(ab + ab_max, grid_size, rounding_mode="floor").to(torch.int64)
+    index = torch.minimum(torch.maximum(index, torch.zeros_like(index)), torch.full_like(index, n - 1))
+    a_bin, b_bin = index.unbind(dim=1)
+    return n * a_bin + b_bin
