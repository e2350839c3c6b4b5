# mutant: forgets to divide XYZ by the white point
# cell: rgb_to_lab
# fails: test_rgb_to_lab
@@
-    xyz = torch.einsum("ij,njhw->nihw", matrix, linear) / white  # [N, 3, H, W]
+    xyz = torch.einsum("ij,njhw->nihw", matrix, linear)  # [N, 3, H, W]
