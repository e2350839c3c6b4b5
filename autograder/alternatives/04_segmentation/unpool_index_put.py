# alternative: flat view and advanced indexing
# cell: max_unpool
def max_unpool2d(x, indices, output_size):
    N, C, H, W = x.shape[0], x.shape[1], output_size[0], output_size[1]
    out = torch.zeros(N * C, H * W, dtype=x.dtype, device=x.device)
    rows = torch.arange(N * C, device=x.device)[:, None]  # [N*C, 1] broadcast over the values
    out[rows, indices.reshape(N * C, -1)] = x.reshape(N * C, -1)
    return out.view(N, C, H, W)
