# mutant: uses the paper's 224 input: 54 x 54 x 96
# cell: answers_alexnet
# fails: test_alexnet_conv1_shape
@@
-alexnet_conv1_output_shape = ((227 - 11) // 4 + 1, (227 - 11) // 4 + 1, 96)
+alexnet_conv1_output_shape = ((224 - 11) // 4 + 1, (224 - 11) // 4 + 1, 96)
