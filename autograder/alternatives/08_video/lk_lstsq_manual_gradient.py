# alternative: central differences written by hand, and torch.linalg.lstsq on the stacked equations
# cell: lucas_kanade_patch
def lucas_kanade_patch(patch0, patch1, eps=1e-9):
    def diff(img, dim):
        n = img.shape[dim]
        out = torch.empty_like(img)
        inner = (img.narrow(dim, 2, n - 2) - img.narrow(dim, 0, n - 2)) / 2
        out.narrow(dim, 1, n - 2).copy_(inner)
        out.narrow(dim, 0, 1).copy_(img.narrow(dim, 1, 1) - img.narrow(dim, 0, 1))
        out.narrow(dim, n - 1, 1).copy_(img.narrow(dim, n - 1, 1) - img.narrow(dim, n - 2, 1))
        return out

    ix, iy = diff(patch1, 1), diff(patch1, 0)
    design = torch.stack([ix.reshape(-1), iy.reshape(-1)], dim=1)  # one equation per pixel
    gram = design.T @ design
    if torch.linalg.det(gram).abs() <= eps:
        return patch0.new_zeros(2)
    return torch.linalg.lstsq(design, -(patch1 - patch0).reshape(-1, 1)).solution[:, 0]
