# mutant: stride defaults to 1 instead of the kernel size
# cell: max_pool2d_forward
# fails: test_max_pool2d_forward
def max_pool2d_forward(x, kernel_size, stride=None):
    """Max pooling over square windows, per channel, without padding.

    Args:
        x: Tensor[N, C, H, W].
        kernel_size (int): window side k.
        stride (int or None): step between windows; None means stride = kernel_size.

    Returns:
        Tensor[N, C, H_out, W_out] with the dtype of x, H_out = (H - k) // stride + 1.
    """
    if stride is None:
        stride = 1
    n, c, h, w = x.shape
    h_out = (h - kernel_size) // stride + 1
    w_out = (w - kernel_size) // stride + 1
    pooled = x.new_empty(n, c, h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            region = x[:, :, i * stride:i * stride + kernel_size, j * stride:j * stride + kernel_size]
            pooled[:, :, i, j] = region.amax(dim=(2, 3))  # max over the window, per sample and channel
    return pooled
