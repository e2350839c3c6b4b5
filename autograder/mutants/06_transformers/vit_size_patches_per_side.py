# mutant: counts patches along one side only (S / p instead of (S / p)^2)
# cell: vit_embedding_size
# fails: test_vit_embedding_size
@@
-    n = (image_size // patch_size) ** 2
+    n = image_size // patch_size
