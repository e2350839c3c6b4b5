# alternative: loops over output pixels and gathers the taps that reach each one
# cell: transpose_loops
def conv_transpose2d_loops(x, weight, bias=None, stride=1, padding=0, output_padding=0):
    n, c_in, h, w = x.shape
    c_out, kh, kw = weight.shape[1:]
    out_h = (h - 1) * stride - 2 * padding + kh + output_padding
    out_w = (w - 1) * stride - 2 * padding + kw + output_padding
    out = x.new_zeros(n, c_out, out_h, out_w)
    for oy in range(out_h):
        for ox in range(out_w):
            fy, fx = oy + padding, ox + padding  # position in the uncropped output
            for u in range(kh):
                if (fy - u) % stride or not 0 <= (fy - u) // stride < h:
                    continue
                i = (fy - u) // stride
                for v in range(kw):
                    if (fx - v) % stride or not 0 <= (fx - v) // stride < w:
                        continue
                    j = (fx - v) // stride
                    out[:, :, oy, ox] += x[:, :, i, j] @ weight[:, :, u, v]  # [N, C_in] @ [C_in, C_out]
    if bias is not None:
        out += bias.view(1, -1, 1, 1)
    return out
