# mutant: running maximum initialised with 0 (wrong when a whole window is negative)
# cell: max_pool2d_forward
# fails: test_max_pool2d_forward
def max_pool2d_forward(x, kernel_size, stride=None):
    """Max pooling with a running maximum that starts at zero."""
    if stride is None:
        stride = kernel_size
    n, c, h, w = x.shape
    h_out = (h - kernel_size) // stride + 1
    w_out = (w - kernel_size) // stride + 1
    pooled = x.new_zeros(n, c, h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            best = x.new_zeros(n, c)
            for u in range(kernel_size):
                for v in range(kernel_size):
                    best = torch.maximum(best, x[:, :, i * stride + u, j * stride + v])
            pooled[:, :, i, j] = best
    return pooled
