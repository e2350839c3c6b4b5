# mutant: the lecture's formula (H - h)(W - w): no +1
# cell: count_sliding_windows
# fails: test_count_sliding_windows
def count_sliding_windows(image_size, window_sizes, stride=1):
    """Number of window positions inside an image, summed over several window sizes.

    Args:
        image_size: (H, W), ints.
        window_sizes: list of (h, w) window sizes, ints.
        stride: step in pixels between neighbouring positions, along both axes (int >= 1).

    Returns:
        int: the number of (window size, position) pairs with the window inside the image.
    """
    height, width = image_size
    total = 0
    for h, w in window_sizes:
        if h <= height and w <= width:  # a larger window has no valid position (not a negative count)
            total += ((height - h) // stride) * ((width - w) // stride)
    return total
