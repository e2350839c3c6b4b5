# mutant: never pads the input (sizes computed with padding)
# cell: im2col
# fails: test_im2col
def im2col(x, kernel_size, stride=1, padding=0):
    """Unroll every (padded) window of x into a column.

    Args:
        x: Tensor[N, C, H, W].
        kernel_size (int or tuple[int, int]): window size k or (kH, kW).
        stride (int): step between windows.
        padding (int): zeros added on all four sides.

    Returns:
        Tensor[N, C*kH*kW, H_out*W_out] with the dtype of x; the same as torch.nn.functional.unfold.
    """
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    n, c, h, w = x.shape
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (w + 2 * padding - kw) // stride + 1
    xp = x  # [N, C, H + 2p, W + 2p]
    cols = x.new_empty(n, c, kh, kw, h_out, w_out)
    for u in range(kh):
        for v in range(kw):
            # tap (u, v) of every window at once: a strided slice of the padded input
            cols[:, :, u, v] = xp[:, :, u:u + stride * (h_out - 1) + 1:stride, v:v + stride * (w_out - 1) + 1:stride]
    return cols.reshape(n, c * kh * kw, h_out * w_out)  # rows (c, u, v), columns (i, j)
