# mutant: believes the paper: 224 fits
# cell: answers_alexnet
# fails: test_alexnet_conv1_shape
@@
-alexnet_224_fits = (224 - 11) % 4 == 0
+alexnet_224_fits = True
