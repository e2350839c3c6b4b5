# mutant: calls torch.nn.functional.conv2d instead of implementing the loops
# cell: conv2d_loops
# fails: test_conv2d_loops_basic test_conv2d_loops_stride_padding
def conv2d_loops(x, weight, bias=None, stride=1, padding=0):
    """Delegates to PyTorch."""
    return F.conv2d(x, weight, bias, stride=stride, padding=padding)
