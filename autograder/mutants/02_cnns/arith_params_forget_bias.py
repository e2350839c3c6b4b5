# mutant: parameter count forgets the biases
# cell: answers_conv_arithmetic
# fails: test_conv1_num_params
# conv1_output_shape = (H, W, C)   conv1_num_params = ...
# stride3_output_size = ...        stride3_fits_7 = True or False
conv1_output_shape = (32 - 5 + 1, 32 - 5 + 1, 6)
conv1_num_params = 5 * 5 * 3 * 5          # weights (k*k*C_in per filter) + one bias per filter
stride3_output_size = (32 - 5) // 3 + 1
stride3_fits_7 = (7 - 3) % 3 == 0
