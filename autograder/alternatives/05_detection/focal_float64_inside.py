# alternative: computes in float64 through softplus and casts back
# cell: focal_loss
def focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    x, t = logits.double(), targets.double()
    minus_log_p_t = t * F.softplus(-x) + (1 - t) * F.softplus(x)  # -log p_t
    p_t = torch.exp(-minus_log_p_t)
    weight = alpha * t + (1 - alpha) * (1 - t)
    return (weight * (1 - p_t).pow(gamma) * minus_log_p_t).to(logits.dtype)
