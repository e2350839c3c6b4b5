# alternative: depthwise and pointwise parts computed separately; answer by solving 9C/(9+C) >= 8
# cell: separable_conv_cost
def separable_conv_cost(c_in, c_out, kernel_size, out_h, out_w):
    """Weights and multiply-adds of a standard conv vs its depthwise-separable version (no biases)."""
    area = kernel_size ** 2
    depthwise = area * c_in
    pointwise = c_in * c_out
    standard = area * c_in * c_out
    n = out_h * out_w
    return standard, depthwise + pointwise, standard * n, (depthwise + pointwise) * n


# 9C / (9 + C) >= 8  <=>  9C >= 72 + 8C  <=>  C >= 72
min_channels_for_8x = 72
