# mutant: forgets the bias
# cell: conv2d_im2col
# fails: test_conv2d_im2col
def conv2d_im2col(x, weight, bias=None, stride=1, padding=0):
    """2D convolution as im2col followed by one matrix multiply; same contract as conv2d_loops.

    Args:
        x: Tensor[N, C_in, H, W]; weight: Tensor[C_out, C_in, kH, kW]; bias: Tensor[C_out] or None.

    Returns:
        Tensor[N, C_out, H_out, W_out].
    """
    n, _, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (w + 2 * padding - kw) // stride + 1
    columns = im2col(x, (kh, kw), stride=stride, padding=padding)  # [N, C_in*kH*kW, L]
    result = weight.reshape(c_out, -1) @ columns                   # [C_out, Ckk] @ [N, Ckk, L] -> [N, C_out, L]
    return result.reshape(n, c_out, h_out, w_out)
