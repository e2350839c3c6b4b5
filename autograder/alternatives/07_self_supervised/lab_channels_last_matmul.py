# alternative: channels last and a matrix product, constants in float64 cast at the end
# cell: rgb_to_lab
def rgb_to_lab(rgb):
    x = rgb.double().permute(0, 2, 3, 1)  # [N, H, W, 3]
    x = torch.where(x > 0.04045, ((x + 0.055) / 1.055).pow(2.4), x / 12.92)
    m = torch.tensor([[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169],
                      [0.019334, 0.119193, 0.950227]], dtype=torch.float64)
    xyz = (x @ m.T) / torch.tensor([0.95047, 1.0, 1.08883], dtype=torch.float64)
    f = torch.where(xyz > 0.008856, torch.pow(xyz.clamp(min=0), 1.0 / 3.0), 7.787 * xyz + 16.0 / 116.0)
    lab = torch.stack([116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])], dim=-1)
    return lab.permute(0, 3, 1, 2).to(rgb.dtype)
