# mutant: differentiates the cross-entropy loss instead of the class score
# cell: saliency_map
# fails: test_saliency_map
@@
-    chosen = scores[torch.arange(len(labels)), labels].sum()  # every image's own class score
+    chosen = F.cross_entropy(scores, labels)
