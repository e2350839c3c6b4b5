# mutant: no check that the window fits: two negative counts multiply to a positive one
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
        total += ((height - h) // stride + 1) * ((width - w) // stride + 1)
    return total
