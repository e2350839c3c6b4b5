# mutant: forgets the class token (its vector and its position)
# cell: vit_embedding_size
# fails: test_vit_embedding_size
@@
-    return n, projection + dim + (n + 1) * dim
+    return n, projection + n * dim
