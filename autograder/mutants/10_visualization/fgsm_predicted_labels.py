# mutant: attacks the model's own predictions instead of the true labels
# cell: fgsm
# fails: test_fgsm
@@
-    loss = F.cross_entropy(model(x), labels)
+    scores = model(x)
+    loss = F.cross_entropy(scores, scores.argmax(dim=1))
