# alternative: a full 2D grid of cell positions with meshgrid, squared distances in one go
# cell: gaussian_heatmaps
def gaussian_heatmaps(keypoints, height, width, sigma):
    """Distances from every cell to every keypoint, then one exponential."""
    rows, cols = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")  # [H, W] each
    dx = cols[None].to(keypoints.dtype) - keypoints[:, 0, None, None]  # [K, H, W]
    dy = rows[None].to(keypoints.dtype) - keypoints[:, 1, None, None]
    return torch.exp(-(dx**2 + dy**2) / (2 * sigma**2))
