# alternative: keep the perturbation delta, project it into [-eps, eps], then clip the image
# cell: pgd_attack
def pgd_attack(model, images, labels, epsilon, step_size, steps, random_start=False, generator=None):
    x0 = images.detach()
    if random_start:
        u = torch.rand(x0.shape, generator=generator, dtype=x0.dtype, device=x0.device)
        delta = torch.clamp(x0 + (2 * u - 1) * epsilon, 0, 1) - x0
    else:
        delta = torch.zeros_like(x0)
    for _ in range(steps):
        delta.requires_grad_(True)
        loss = F.cross_entropy(model(x0 + delta), labels)
        (grad,) = torch.autograd.grad(loss, delta)
        delta = torch.clamp(delta.detach() + step_size * grad.sign(), -epsilon, epsilon)
        delta = torch.clamp(x0 + delta, 0, 1) - x0
    return (x0 + delta).detach()
