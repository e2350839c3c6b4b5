# mutant: forgets the bias
# cell: transpose_loops
# fails: test_transpose_loops
def conv_transpose2d_loops(x, weight, bias=None, stride=1, padding=0, output_padding=0):
    n, c_in, h, w = x.shape
    c_out, kh, kw = weight.shape[1:]
    full = x.new_zeros(n, c_out, (h - 1) * stride + kh + output_padding, (w - 1) * stride + kw + output_padding)
    for i in range(h):
        for j in range(w):
            stamp = (x[:, :, i, j, None, None, None] * weight).sum(dim=1)
            full[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] += stamp
    return full[:, :, padding:full.shape[2] - padding, padding:full.shape[3] - padding]
