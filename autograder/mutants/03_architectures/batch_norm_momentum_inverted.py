# mutant: the lecture's p used as PyTorch's momentum: old statistics get weight momentum
# cell: batch_norm_forward
# fails: test_batch_norm_train
def batch_norm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    """Batch normalization of x: Tensor[N, C, H, W] per channel; see the text for the contract.

    Returns a tensor of the shape and dtype of x. In training mode, running_mean and
    running_var (Tensor[C] or None) are updated in place.
    """
    dims = (0, 2, 3)  # every dimension except the channels
    shape = (1, -1, 1, 1)  # [C] -> [1, C, 1, 1] broadcasts over N, H, W
    if training:
        mean = x.mean(dim=dims)  # [C]
        var = x.var(dim=dims, unbiased=False)  # [C], biased: normalizes this batch
        if running_mean is not None:  # statistics, not part of the graph: detached values
            m = x.numel() // x.shape[1]  # values per channel
            running_mean.mul_(momentum).add_((1 - momentum) * mean.detach())
            running_var.mul_(momentum).add_((1 - momentum) * var.detach() * m / (m - 1))
    else:
        mean, var = running_mean, running_var
    out = (x - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    if gamma is not None:
        out = out * gamma.reshape(shape)
    if beta is not None:
        out = out + beta.reshape(shape)
    return out
