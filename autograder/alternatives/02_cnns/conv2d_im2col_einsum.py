# alternative: einsum between the flattened filters and the columns
# cell: conv2d_im2col
def conv2d_im2col(x, weight, bias=None, stride=1, padding=0):
    c_out, c_in, kh, kw = weight.shape
    ho = (x.shape[2] + 2 * padding - kh) // stride + 1
    wo = (x.shape[3] + 2 * padding - kw) // stride + 1
    cols = im2col(x, (kh, kw), stride, padding)
    y = torch.einsum("ok,nkl->nol", weight.flatten(1), cols)
    if bias is not None:
        y += bias[:, None]
    return y.view(x.shape[0], c_out, ho, wo)
