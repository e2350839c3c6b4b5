# alternative: explicit loops over input and output channels and kernel taps, scalar by scalar in the inner loop
# cell: transpose_loops
def conv_transpose2d_loops(x, weight, bias=None, stride=1, padding=0, output_padding=0):
    import itertools
    n, c_in, h, w = x.shape
    c_out, kh, kw = weight.shape[1:]
    full = torch.zeros(n, c_out, (h - 1) * stride + kh + output_padding, (w - 1) * stride + kw + output_padding,
                       dtype=x.dtype)
    for ci, co, u, v in itertools.product(range(c_in), range(c_out), range(kh), range(kw)):
        # tap (u, v) of every input pixel lands on a strided grid of the output
        full[:, co, u:u + (h - 1) * stride + 1:stride, v:v + (w - 1) * stride + 1:stride] += x[:, ci] * weight[ci, co, u, v]
    crop_h, crop_w = full.shape[2] - padding, full.shape[3] - padding
    result = full[:, :, padding:crop_h, padding:crop_w]
    if bias is not None:
        result = result + bias[:, None, None]
    return result
