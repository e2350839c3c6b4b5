# alternative: counts the positions with range objects
# cell: count_sliding_windows
def count_sliding_windows(image_size, window_sizes, stride=1):
    """Positions along each axis are range(0, size - window + 1, stride)."""
    return sum(len(range(0, image_size[0] - h + 1, stride)) * len(range(0, image_size[1] - w + 1, stride))
               for h, w in window_sizes)
