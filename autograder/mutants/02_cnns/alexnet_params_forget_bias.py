# mutant: CONV1 parameters without the 96 biases
# cell: answers_alexnet
# fails: test_alexnet_conv1_params
# alexnet_conv1_params = ...   alexnet_conv1_output_shape = (H, W, C)   alexnet_224_fits = ...
alexnet_conv1_params = 11 * 11 * 3 * 96
alexnet_conv1_output_shape = ((227 - 11) // 4 + 1, (227 - 11) // 4 + 1, 96)
alexnet_224_fits = (224 - 11) % 4 == 0
