# alternative: flip the image by indexing, swap each pair with an index assignment on a copy
# cell: hflip
def hflip(image, keypoints, flip_pairs):
    """Reverse the columns; mirror x; exchange the rows of every pair."""
    width = image.shape[-1]
    flipped_image = image[..., torch.arange(width - 1, -1, -1)]
    flipped = keypoints.clone()
    flipped[:, 0] = (width - 1) - flipped[:, 0]
    for left, right in flip_pairs:
        flipped[[left, right]] = flipped[[right, left]]
    return flipped_image, flipped
