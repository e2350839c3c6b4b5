# alternative: plain loops with divmod
# cell: max_unpool
def max_unpool2d(x, indices, output_size):
    out = torch.zeros(x.shape[0], x.shape[1], output_size[0], output_size[1], dtype=x.dtype, device=x.device)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(x.shape[2]):
                for j in range(x.shape[3]):
                    row, col = divmod(int(indices[n, c, i, j]), output_size[1])
                    out[n, c, row, col] = x[n, c, i, j]
    return out
