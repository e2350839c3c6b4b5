# mutant: counts every image, not only the conflict images
# cell: cue_reliance
# fails: test_cue_reliance
@@
-    with torch.no_grad():  # predictions only
-        predicted = model(images[conflict]).argmax(dim=1)
-    follows_object = (predicted == labels[conflict]).float().mean().item()
-    follows_background = (predicted == background_labels[conflict]).float().mean().item()
+    with torch.no_grad():
+        predicted = model(images).argmax(dim=1)
+    follows_object = (predicted == labels).float().mean().item()
+    follows_background = (predicted == background_labels).float().mean().item()
