# alternative: .backward() on a copy, clipping with torch.minimum / torch.maximum
# cell: fgsm
def fgsm(model, images, labels, epsilon):
    x = images.clone().detach().requires_grad_(True)
    F.cross_entropy(model(x), labels).backward()
    stepped = images.detach() + epsilon * torch.sign(x.grad)
    return torch.minimum(torch.maximum(stepped, torch.zeros_like(stepped)), torch.ones_like(stepped)).detach()
