# mutant: calls torch.nn.functional.max_pool2d
# cell: max_pool2d_forward
# fails: test_max_pool2d_forward
def max_pool2d_forward(x, kernel_size, stride=None):
    """Delegates to PyTorch."""
    return F.max_pool2d(x, kernel_size, stride=stride)
