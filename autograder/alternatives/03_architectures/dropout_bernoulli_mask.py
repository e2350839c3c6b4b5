# alternative: a Bernoulli mask of keep probabilities, the scaling folded into the mask, in-place multiply on a copy
# cell: dropout_forward
def dropout_forward(x, p, training, generator=None):
    if p < 0 or p > 1:
        raise ValueError("p must lie in [0, 1]")
    out = x.clone()
    if training:
        if p >= 1:
            return out.zero_()
        keep_prob = torch.full_like(x, 1 - p)
        mask = torch.bernoulli(keep_prob, generator=generator)
        out.mul_(mask / (1 - p))
    return out
