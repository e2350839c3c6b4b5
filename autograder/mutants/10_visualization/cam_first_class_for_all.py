# mutant: explains the first image's class in every image
# cell: class_activation_map
# fails: test_class_activation_map
@@
-    weights = fc_weight[classes]  # [N, C]: the row of each image's class
+    weights = fc_weight[classes[:1]].expand(len(classes), -1)
