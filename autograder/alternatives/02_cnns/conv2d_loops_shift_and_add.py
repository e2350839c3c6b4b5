# alternative: loops over kernel taps and accumulates strided slices (einsum over channels)
# cell: conv2d_loops
def conv2d_loops(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    O, _, KH, KW = weight.shape
    Ho = (H + 2 * padding - KH) // stride + 1
    Wo = (W + 2 * padding - KW) // stride + 1
    padded = F.pad(x, [padding] * 4)
    result = torch.zeros(N, O, Ho, Wo, dtype=x.dtype, device=x.device)
    for u in range(KH):
        for v in range(KW):
            tap = padded[:, :, u:u + stride * (Ho - 1) + 1:stride, v:v + stride * (Wo - 1) + 1:stride]  # [N, C, Ho, Wo]
            result += torch.einsum("nchw,oc->nohw", tap, weight[:, :, u, v])
    if bias is not None:
        result = result + bias[None, :, None, None]
    return result
