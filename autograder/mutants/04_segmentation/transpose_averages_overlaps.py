# mutant: averages overlapping stamps instead of summing them (the CS182 2021 slide)
# cell: transpose_loops
# fails: test_transpose_loops
def conv_transpose2d_loops(x, weight, bias=None, stride=1, padding=0, output_padding=0):
    n, c_in, h, w = x.shape
    c_out, kh, kw = weight.shape[1:]
    size = ((h - 1) * stride + kh + output_padding, (w - 1) * stride + kw + output_padding)
    full = x.new_zeros(n, c_out, *size)
    count = x.new_zeros(*size)
    for i in range(h):
        for j in range(w):
            stamp = (x[:, :, i, j, None, None, None] * weight).sum(dim=1)
            full[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] += stamp
            count[i * stride:i * stride + kh, j * stride:j * stride + kw] += 1
    full = full / count.clamp(min=1)
    out = full[:, :, padding:size[0] - padding, padding:size[1] - padding]
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out
