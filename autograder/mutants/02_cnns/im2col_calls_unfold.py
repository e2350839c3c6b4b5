# mutant: calls torch.nn.functional.unfold
# cell: im2col
# fails: test_im2col
def im2col(x, kernel_size, stride=1, padding=0):
    """Delegates to PyTorch."""
    return F.unfold(x, kernel_size, stride=stride, padding=padding)
