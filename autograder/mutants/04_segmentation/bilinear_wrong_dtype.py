# mutant: computes in float32 whatever the input dtype (float64 input comes back as float32)
# cell: bilinear
# fails: test_bilinear
def bilinear_upsample(x, scale, align_corners=False):
    x32 = x.float()

    def neighbours(n_in):
        n_out = n_in * scale
        i = torch.arange(n_out, dtype=torch.float32, device=x.device)
        if align_corners:
            src = i * (n_in - 1) / (n_out - 1) if n_out > 1 else torch.zeros_like(i)
        else:
            src = ((i + 0.5) / scale - 0.5).clamp(min=0)
        lo = src.floor().long().clamp(max=n_in - 1)
        hi = (lo + 1).clamp(max=n_in - 1)
        return lo, hi, src - lo

    r0, r1, tr = neighbours(x.shape[2])
    c0, c1, tc = neighbours(x.shape[3])
    rows = x32[:, :, r0] * (1 - tr[:, None]) + x32[:, :, r1] * tr[:, None]
    return rows[..., c0] * (1 - tc) + rows[..., c1] * tc
