# alternative: one patch at a time into a list, stacked
# cell: patchify
def patchify(images, patch_size):
    b, c, h, w = images.shape
    p = patch_size
    if h % p != 0 or w % p != 0:
        raise ValueError("the patch size must divide the height and the width")
    patches = []
    for top in range(0, h, p):
        for left in range(0, w, p):
            patches.append(images[:, :, top:top + p, left:left + p].reshape(b, -1))
    return torch.stack(patches, dim=1)
