# mutant: right formula but never raises
# cell: transpose_size
# fails: test_transpose_size
def conv_transpose_output_size(in_size, kernel_size, stride=1, padding=0, output_padding=0):
    return (in_size - 1) * stride - 2 * padding + kernel_size + output_padding
