# mutant: believes overlapping windows can never tile their input exactly
# cell: answers_alexnet
# fails: test_alexnet_pool1_shape
@@
-alexnet_pool1_fits = (conv1_side - 3) % 2 == 0
+alexnet_pool1_fits = False
