# mutant: mixes up the axes: the gradient along rows is taken as d/dx
# cell: lucas_kanade_patch
# fails: test_lucas_kanade_patch
@@
-    grad_y, grad_x = torch.gradient(patch1, dim=(0, 1))  # rows first: d/dy, then d/dx
+    grad_x, grad_y = torch.gradient(patch1, dim=(0, 1))  # rows first: d/dy, then d/dx
