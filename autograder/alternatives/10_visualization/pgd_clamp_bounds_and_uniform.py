# alternative: uniform_ for the start, torch.clamp with tensor bounds, .backward() for the gradient
# cell: pgd_attack
def pgd_attack(model, images, labels, epsilon, step_size, steps, random_start=False, generator=None):
    low, high = images - epsilon, images + epsilon
    x = images.clone().detach()
    if random_start:
        x = (x + torch.empty_like(x).uniform_(-epsilon, epsilon, generator=generator)).clamp(0, 1)
    for _ in range(steps):
        x = x.detach().requires_grad_(True)
        F.cross_entropy(model(x), labels).backward()
        with torch.no_grad():
            x = torch.clamp(torch.clamp(x + step_size * x.grad.sign(), min=low, max=high), 0, 1)
    return x.detach()
