# mutant: output size uses the stride but the window position does not (i instead of i * stride)
# cell: conv2d_loops
# fails: test_conv2d_loops_stride_padding
def conv2d_loops(x, weight, bias=None, stride=1, padding=0):
    """2D convolution (cross-correlation, as in PyTorch) with explicit loops.

    Args:
        x: Tensor[N, C_in, H, W], floating point.
        weight: Tensor[C_out, C_in, kH, kW].
        bias: Tensor[C_out] or None.
        stride (int): step between windows, the same along both axes.
        padding (int): zeros added on all four sides.

    Returns:
        Tensor[N, C_out, H_out, W_out] with the dtype of x, where
        H_out = (H + 2*padding - kH) // stride + 1 (and likewise W_out).
    """
    n, c_in, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (w + 2 * padding - kw) // stride + 1
    xp = x.new_zeros(n, c_in, h + 2 * padding, w + 2 * padding)
    xp[:, :, padding:padding + h, padding:padding + w] = x
    out = x.new_zeros(n, c_out, h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            top, left = i, j
            window = xp[:, :, top:top + kh, left:left + kw]  # [N, C_in, kH, kW]
            for o in range(c_out):
                out[:, o, i, j] = (window * weight[o]).sum(dim=(1, 2, 3))
    if bias is not None:
        out += bias.view(1, c_out, 1, 1)  # one bias per output channel, broadcast over N, H, W
    return out
