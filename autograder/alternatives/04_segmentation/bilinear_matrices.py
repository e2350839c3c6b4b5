# alternative: separable interpolation matrices, out = A_h @ x @ A_w^T
# cell: bilinear
def bilinear_upsample(x, scale, align_corners=False):
    def matrix(n_in):
        n_out = n_in * scale
        a = torch.zeros(n_out, n_in, dtype=x.dtype, device=x.device)
        for i in range(n_out):
            if align_corners:
                src = i * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
            else:
                src = max((i + 0.5) / scale - 0.5, 0.0)
            lo = min(int(src), n_in - 1)
            hi = min(lo + 1, n_in - 1)
            a[i, lo] += 1 - (src - lo)
            a[i, hi] += src - lo
        return a

    return matrix(x.shape[2]) @ x @ matrix(x.shape[3]).T
