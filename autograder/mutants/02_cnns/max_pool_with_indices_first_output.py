# mutant: F.max_pool2d_with_indices(...)[0], an alias of the forbidden F.max_pool2d
# cell: max_pool2d_forward
# fails: test_max_pool2d_forward
def max_pool2d_forward(x, kernel_size, stride=None):
    return F.max_pool2d_with_indices(x, kernel_size, stride)[0]
