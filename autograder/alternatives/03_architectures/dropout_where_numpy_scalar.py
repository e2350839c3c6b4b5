# alternative: torch.where on uniform draws, p accepted as any real number, x returned itself in evaluation mode
# cell: dropout_forward
def dropout_forward(x, p, training, generator=None):
    p = float(p)
    if not (0.0 <= p <= 1.0):
        raise ValueError(f"bad p {p}")
    if not training:
        return x
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    return torch.where(u < p, torch.zeros_like(x), x * scale)
