# mutant: counts the projection weights but not its biases
# cell: vit_embedding_size
# fails: test_vit_embedding_size
@@
-    projection = in_channels * patch_size * patch_size * dim + dim
+    projection = in_channels * patch_size * patch_size * dim
