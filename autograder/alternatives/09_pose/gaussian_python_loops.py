# alternative: three loops and math.exp, written into a tensor of the keypoints' dtype
# cell: gaussian_heatmaps
def gaussian_heatmaps(keypoints, height, width, sigma):
    """One cell at a time."""
    maps = torch.zeros(len(keypoints), height, width, dtype=keypoints.dtype)
    for k, (x, y) in enumerate(keypoints.tolist()):
        for r in range(height):
            for c in range(width):
                maps[k, r, c] = math.exp(-((c - x) ** 2 + (r - y) ** 2) / (2 * sigma * sigma))
    return maps
