# alternative: torch.var_mean with correction=0 and keepdim, buffers updated with lerp_
# cell: batch_norm_forward
def batch_norm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    """Batch normalization of x: Tensor[N, C, H, W] per channel; see the text for the contract."""
    if training:
        var, mean = torch.var_mean(x, dim=(0, 2, 3), correction=0, keepdim=True)  # [1, C, 1, 1]
        if running_mean is not None:
            n = x.shape[0] * x.shape[2] * x.shape[3]
            running_mean.lerp_(mean.flatten().detach(), momentum)
            running_var.lerp_((var.flatten() * n / (n - 1)).detach(), momentum)
    else:
        mean, var = running_mean[None, :, None, None], running_var[None, :, None, None]
    y = (x - mean) * torch.rsqrt(var + eps)
    if gamma is not None:
        y = gamma[None, :, None, None] * y
    if beta is not None:
        y = y + beta[None, :, None, None]
    return y
