# mutant: adds the shortcut after the final ReLU
# cell: residual_block_forward
# fails: test_residual_identity
@@
-    return torch.relu(out + identity)
+    return torch.relu(out) + identity
