# alternative: an honest batch norm that names its variances `vars` (issue 11: the cheating scan zeroed it)
# cell: batch_norm_forward
def batch_norm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    if training:
        means = x.mean(dim=(0, 2, 3))
        vars = ((x - means[None, :, None, None]) ** 2).mean(dim=(0, 2, 3))
        if running_mean is not None:
            count = x.shape[0] * x.shape[2] * x.shape[3]
            with torch.no_grad():
                running_mean.copy_((1 - momentum) * running_mean + momentum * means)
                running_var.copy_((1 - momentum) * running_var + momentum * vars * count / (count - 1))
    else:
        means, vars = running_mean, running_var
    y = (x - means[None, :, None, None]) / torch.sqrt(vars[None, :, None, None] + eps)
    if gamma is not None:
        y = y * gamma[None, :, None, None]
    if beta is not None:
        y = y + beta[None, :, None, None]
    return y
