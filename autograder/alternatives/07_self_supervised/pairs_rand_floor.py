# alternative: uniform floats floored to integers, in float64
# cell: patch_pairs
@@
-    rows = torch.randint(margin, height - patch_size - margin + 1, (num_pairs,), generator=generator)
-    cols = torch.randint(margin, width - patch_size - margin + 1, (num_pairs,), generator=generator)
+    span = torch.tensor([height - patch_size - 2 * margin + 1, width - patch_size - 2 * margin + 1], dtype=torch.float64)
+    draws = torch.floor(torch.rand(num_pairs, 2, generator=generator, dtype=torch.float64) * span).long() + margin
+    rows, cols = draws[:, 0], draws[:, 1]
