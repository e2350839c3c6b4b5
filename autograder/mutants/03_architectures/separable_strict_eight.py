# mutant: strict inequality: smallest C with a saving of MORE than 8
# cell: separable_conv_cost
# fails: test_min_channels_for_8x
def separable_conv_cost(c_in, c_out, kernel_size, out_h, out_w):
    """Weights and multiply-adds of a standard conv vs its depthwise-separable version (no biases).

    Args:
        c_in, c_out: input and output channels (ints).
        kernel_size: side k of the square kernel.
        out_h, out_w: height and width of the output (the same for both versions).

    Returns:
        (standard_params, separable_params, standard_macs, separable_macs), four ints.
    """
    positions = out_h * out_w
    standard_params = kernel_size * kernel_size * c_in * c_out
    separable_params = kernel_size * kernel_size * c_in + c_in * c_out  # depthwise + pointwise
    return standard_params, separable_params, standard_params * positions, separable_params * positions


# Assign min_channels_for_8x (an int), found with separable_conv_cost.
min_channels_for_8x = next(c for c in range(1, 10_000)
                           if separable_conv_cost(c, c, 3, 1, 1)[2] > 8 * separable_conv_cost(c, c, 3, 1, 1)[3])
