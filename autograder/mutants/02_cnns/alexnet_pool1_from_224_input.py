# mutant: takes the paper's 224 input: CONV1 gives 54, the pool 26 x 26 x 96, and the windows do not tile
# cell: answers_alexnet
# fails: test_alexnet_pool1_shape
@@
-conv1_side = (227 - 11) // 4 + 1  # the convolution's output: conv1_side x conv1_side x 96
+conv1_side = (224 - 11) // 4 + 1  # the convolution's output: conv1_side x conv1_side x 96
