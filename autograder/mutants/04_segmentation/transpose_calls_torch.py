# mutant: calls the library instead of implementing the stamping
# cell: transpose_loops
# fails: test_transpose_loops
def conv_transpose2d_loops(x, weight, bias=None, stride=1, padding=0, output_padding=0):
    return F.conv_transpose2d(x, weight, bias, stride=stride, padding=padding, output_padding=output_padding)
