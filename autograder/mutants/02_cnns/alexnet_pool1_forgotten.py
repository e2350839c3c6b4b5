# mutant: forgets the max pool: gives the convolution's output shape
# cell: answers_alexnet
# fails: test_alexnet_pool1_shape
@@
-alexnet_pool1_output_shape = ((conv1_side - 3) // 2 + 1, (conv1_side - 3) // 2 + 1, 96)
+alexnet_pool1_output_shape = (conv1_side, conv1_side, 96)
