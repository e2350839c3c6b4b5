# mutant: records the class score (logit) instead of its probability
# cell: occlusion_map
# fails: test_occlusion_map
@@
-        probabilities = torch.softmax(model(torch.stack(copies)), dim=1)[:, label]
+        probabilities = model(torch.stack(copies))[:, label]
