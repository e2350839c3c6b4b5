# mutant: gives the shape as (C, H, W)
# cell: answers_conv_arithmetic
# fails: test_conv1_output_shape
# conv1_output_shape = (H, W, C)   conv1_num_params = ...
# stride3_output_size = ...        stride3_fits_7 = True or False
conv1_output_shape = (6, 28, 28)
conv1_num_params = 5 * 5 * 3 * 5 + 5          # weights (k*k*C_in per filter) + one bias per filter
stride3_output_size = (32 - 5) // 3 + 1
stride3_fits_7 = (7 - 3) % 3 == 0
