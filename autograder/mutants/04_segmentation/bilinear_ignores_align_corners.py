# mutant: ignores align_corners (always the default convention)
# cell: bilinear
# fails: test_bilinear
def bilinear_upsample(x, scale, align_corners=False):
    def neighbours(n_in):
        n_out = n_in * scale
        i = torch.arange(n_out, dtype=torch.float64, device=x.device)
        src = ((i + 0.5) / scale - 0.5).clamp(min=0)
        lo = src.floor().long().clamp(max=n_in - 1)
        hi = (lo + 1).clamp(max=n_in - 1)
        return lo, hi, (src - lo).to(x.dtype)

    r0, r1, tr = neighbours(x.shape[2])
    c0, c1, tc = neighbours(x.shape[3])
    rows = x[:, :, r0] * (1 - tr[:, None]) + x[:, :, r1] * tr[:, None]
    return rows[..., c0] * (1 - tc) + rows[..., c1] * tc
