# mutant: multiplies by the transposed matrix
# cell: rgb_to_lab
# fails: test_rgb_to_lab
@@
-    xyz = torch.einsum("ij,njhw->nihw", matrix, linear) / white  # [N, 3, H, W]
+    xyz = torch.einsum("ji,njhw->nihw", matrix, linear) / white  # [N, 3, H, W]
