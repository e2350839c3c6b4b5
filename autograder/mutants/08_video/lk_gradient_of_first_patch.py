# mutant: takes the spatial gradients of the first patch instead of the second
# cell: lucas_kanade_patch
# fails: test_lucas_kanade_patch
@@
-    grad_y, grad_x = torch.gradient(patch1, dim=(0, 1))  # rows first: d/dy, then d/dx
+    grad_y, grad_x = torch.gradient(patch0, dim=(0, 1))  # rows first: d/dy, then d/dx
