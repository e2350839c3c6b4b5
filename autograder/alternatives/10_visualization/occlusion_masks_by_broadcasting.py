# alternative: every occluded copy built at once from boolean masks, one forward pass
# cell: occlusion_map
def occlusion_map(model, image, label, patch, stride, fill=0.0):
    _, height, width = image.shape
    tops = torch.arange(0, height - patch + 1, stride)
    lefts = torch.arange(0, width - patch + 1, stride)
    r, c = torch.arange(height), torch.arange(width)
    in_rows = (r[None] >= tops[:, None]) & (r[None] < tops[:, None] + patch)  # [rows, H]
    in_cols = (c[None] >= lefts[:, None]) & (c[None] < lefts[:, None] + patch)  # [cols, W]
    hidden = (in_rows[:, None, :, None] & in_cols[None, :, None, :]).reshape(-1, 1, height, width)
    copies = torch.where(hidden, torch.tensor(fill, dtype=image.dtype), image[None])
    with torch.no_grad():
        probabilities = F.softmax(model(copies), dim=1)[:, label]
    return probabilities.reshape(len(tops), len(lefts))
