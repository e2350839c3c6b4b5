# alternative: vectorized, one matrix product and F.fold (col2im) that sums the overlapping columns
# cell: transpose_loops
def conv_transpose2d_loops(x, weight, bias=None, stride=1, padding=0, output_padding=0):
    n, c_in, h, w = x.shape
    c_out, kh, kw = weight.shape[1:]
    full_size = ((h - 1) * stride + kh + output_padding, (w - 1) * stride + kw + output_padding)
    columns = torch.einsum("nchw,cokl->noklhw", x, weight).reshape(n, c_out * kh * kw, h * w)
    full = F.fold(columns, full_size, (kh, kw), stride=stride)
    out = full[:, :, padding:full_size[0] - padding, padding:full_size[1] - padding]
    return out if bias is None else out + bias.view(1, -1, 1, 1)
