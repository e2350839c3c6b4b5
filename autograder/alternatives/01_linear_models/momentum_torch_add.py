# alternative: out-of-place torch.add with alpha, weight decay folded in at the end
# cell: sgd_momentum_step
def sgd_momentum_step(param, grad, velocity, lr, momentum=0.9, weight_decay=0.0):
    v = torch.add(grad, velocity, alpha=momentum)
    if weight_decay:
        v = torch.add(v, param, alpha=weight_decay)
    return torch.add(param, v, alpha=-lr), v
