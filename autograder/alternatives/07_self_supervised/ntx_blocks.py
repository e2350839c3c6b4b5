# alternative: the four similarity blocks, log_softmax by hand, float64 inside
# cell: nt_xent_loss
def nt_xent_loss(z1, z2, temperature=0.5):
    a = F.normalize(z1.double(), dim=1)
    b = F.normalize(z2.double(), dim=1)
    n = a.shape[0]
    eye = torch.eye(n, dtype=torch.bool)
    aa = (a @ a.T / temperature).masked_fill(eye, -float("inf"))
    bb = (b @ b.T / temperature).masked_fill(eye, -float("inf"))
    ab = a @ b.T / temperature
    positives = torch.diagonal(ab)
    first = torch.logsumexp(torch.cat([ab, aa], dim=1), dim=1) - positives
    second = torch.logsumexp(torch.cat([ab.T, bb], dim=1), dim=1) - positives
    return torch.cat([first, second]).mean().to(z1.dtype)
