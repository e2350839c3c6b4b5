# mutant: differentiates the softmax probability instead of the class score
# cell: saliency_map
# fails: test_saliency_map
@@
-    scores = model(x)  # [N, K] logits
+    scores = torch.softmax(model(x), dim=1)
