# mutant: uses in_size * stride (the inverse of the rounded-down conv formula, without the - 1)
# cell: transpose_size
# fails: test_transpose_size
def conv_transpose_output_size(in_size, kernel_size, stride=1, padding=0, output_padding=0):
    if output_padding >= stride:
        raise ValueError("output_padding must be smaller than the stride")
    return in_size * stride - 2 * padding + kernel_size - 1 + output_padding
