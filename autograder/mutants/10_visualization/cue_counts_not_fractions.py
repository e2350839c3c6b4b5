# mutant: returns the numbers of images instead of fractions
# cell: cue_reliance
# fails: test_cue_reliance
@@
-    follows_object = (predicted == labels[conflict]).float().mean().item()
-    follows_background = (predicted == background_labels[conflict]).float().mean().item()
+    follows_object = (predicted == labels[conflict]).sum().item()
+    follows_background = (predicted == background_labels[conflict]).sum().item()
