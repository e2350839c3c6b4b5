# mutant: CONV1 parameters without the 96 biases
# cell: answers_alexnet
# fails: test_alexnet_conv1_params
@@
-alexnet_conv1_params = 11 * 11 * 3 * 96 + 96
+alexnet_conv1_params = 11 * 11 * 3 * 96
