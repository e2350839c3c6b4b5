# alternative: one output pixel at a time, four neighbours each
# cell: bilinear
def bilinear_upsample(x, scale, align_corners=False):
    N, C, H, W = x.shape
    Ho, Wo = H * scale, W * scale

    def source(i, n_in, n_out):
        if align_corners:
            return i * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        return max((i + 0.5) * n_in / n_out - 0.5, 0.0)

    out = torch.empty(N, C, Ho, Wo, dtype=x.dtype, device=x.device)
    for i in range(Ho):
        sy = source(i, H, Ho)
        y0 = min(int(math.floor(sy)), H - 1)
        y1, dy = min(y0 + 1, H - 1), sy - y0
        for j in range(Wo):
            sx = source(j, W, Wo)
            x0 = min(int(math.floor(sx)), W - 1)
            x1, dx = min(x0 + 1, W - 1), sx - x0
            out[:, :, i, j] = ((1 - dy) * ((1 - dx) * x[:, :, y0, x0] + dx * x[:, :, y0, x1])
                               + dy * ((1 - dx) * x[:, :, y1, x0] + dx * x[:, :, y1, x1]))
    return out
