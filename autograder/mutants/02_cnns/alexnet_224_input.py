# mutant: uses the paper's 224 input: 54 x 54 x 96
# cell: answers_alexnet
# fails: test_alexnet_conv1_shape
# alexnet_conv1_params = ...   alexnet_conv1_output_shape = (H, W, C)   alexnet_224_fits = ...
alexnet_conv1_params = 11 * 11 * 3 * 96 + 96
alexnet_conv1_output_shape = ((224 - 11) // 4 + 1, (224 - 11) // 4 + 1, 96)
alexnet_224_fits = (224 - 11) % 4 == 0
