# mutant: differentiates every image's score for the first image's label
# cell: saliency_map
# fails: test_saliency_map
@@
-    chosen = scores[torch.arange(len(labels)), labels].sum()  # every image's own class score
+    chosen = scores[:, labels[0]].sum()
