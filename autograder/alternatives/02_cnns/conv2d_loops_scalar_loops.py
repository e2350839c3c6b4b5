# alternative: six nested loops over output channel, position, input channel and taps (batched over N)
# cell: conv2d_loops
def conv2d_loops(x, weight, bias=None, stride=1, padding=0):
    n, c_in, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    xp = torch.zeros(n, c_in, h + 2 * padding, w + 2 * padding, dtype=x.dtype)
    xp[:, :, padding:padding + h, padding:padding + w] = x
    h_out = (xp.shape[2] - kh) // stride + 1
    w_out = (xp.shape[3] - kw) // stride + 1
    out = torch.zeros(n, c_out, h_out, w_out, dtype=x.dtype)
    for o in range(c_out):
        for i in range(h_out):
            for j in range(w_out):
                acc = bias[o].expand(n).clone() if bias is not None else torch.zeros(n, dtype=x.dtype)
                for c in range(c_in):
                    for u in range(kh):
                        for v in range(kw):
                            acc = acc + weight[o, c, u, v] * xp[:, c, i * stride + u, j * stride + v]
                out[:, o, i, j] = acc
    return out
