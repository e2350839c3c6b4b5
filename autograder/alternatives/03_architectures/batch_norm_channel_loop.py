# alternative: one channel at a time, statistics written out by hand, float32 throughout
# cell: batch_norm_forward
def batch_norm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    """Batch normalization of x: Tensor[N, C, H, W] per channel; see the text for the contract."""
    channels = []
    for c in range(x.shape[1]):
        v = x[:, c]  # [N, H, W]
        if training:
            m = v.numel()
            mu = v.sum() / m
            sq = ((v - mu) ** 2).sum()
            var = sq / m
            if running_mean is not None:
                running_mean[c] = (1 - momentum) * running_mean[c] + momentum * mu.detach()
                running_var[c] = (1 - momentum) * running_var[c] + momentum * (sq / (m - 1)).detach()
        else:
            mu, var = running_mean[c], running_var[c]
        y = (v - mu) / (var + eps).sqrt()
        if gamma is not None:
            y = y * gamma[c]
        if beta is not None:
            y = y + beta[c]
        channels.append(y)
    return torch.stack(channels, dim=1)
