# mutant: no ReLU between the two convolutions
# cell: residual_block_forward
# fails: test_residual_identity
@@
-    out = torch.relu(bn1(conv1(x)))  # [N, C_out, H_out, W_out]
+    out = bn1(conv1(x))  # [N, C_out, H_out, W_out]
