# alternative: counts the parameters of meta-device layers (a Conv2d and two tensors), returns a list
# cell: vit_embedding_size
def vit_embedding_size(image_size, patch_size, in_channels, dim):
    if image_size % patch_size:
        raise ValueError("patch_size must divide image_size")
    side = image_size // patch_size
    with torch.device("meta"):
        conv = nn.Conv2d(in_channels, dim, patch_size, stride=patch_size)
        cls_token = torch.zeros(1, 1, dim)
        positions = torch.zeros(1, side * side + 1, dim)
    total = sum(p.numel() for p in conv.parameters()) + cls_token.numel() + positions.numel()
    return [side * side, int(total)]
