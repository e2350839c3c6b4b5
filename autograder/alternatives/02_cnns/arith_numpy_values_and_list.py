# alternative: answers as numpy integers, a numpy bool and a list for the shape (all correct under the grading policy)
# cell: answers_conv_arithmetic
conv1_output_shape = [np.int64(32 - 5 + 1), np.int64(32 - 5 + 1), np.int64(6)]
conv1_num_params = np.prod([5, 5, 3]) * 5 + 5
stride3_output_size = np.int64(35 - 5) // 3 + 1
stride3_fits_7 = np.bool_((7 - 4) % 3 == 0)
