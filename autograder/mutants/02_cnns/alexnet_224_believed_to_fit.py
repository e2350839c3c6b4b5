# mutant: believes the paper: 224 fits
# cell: answers_alexnet
# fails: test_alexnet_conv1_shape
# alexnet_conv1_params = ...   alexnet_conv1_output_shape = (H, W, C)   alexnet_224_fits = ...
alexnet_conv1_params = 11 * 11 * 3 * 96 + 96
alexnet_conv1_output_shape = ((227 - 11) // 4 + 1, (227 - 11) // 4 + 1, 96)
alexnet_224_fits = True
