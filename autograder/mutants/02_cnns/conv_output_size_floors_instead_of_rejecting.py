# mutant: rounds down like PyTorch instead of rejecting a stride that does not tile
# cell: conv_output_size
# fails: test_conv_output_size_errors
def conv_output_size(in_size, kernel_size, stride=1, padding=0, dilation=1):
    """Output length of a convolution along one dimension, for configurations that fit.

    Args:
        in_size (int): input length N (>= 1).
        kernel_size (int): filter length k (>= 1).
        stride (int): step S between windows (>= 1).
        padding (int): pixels P added on each side (>= 0).
        dilation (int): spacing d between filter taps (>= 1); the filter spans d*(k-1)+1 pixels.

    Returns:
        int: the number of windows, (N + 2P - span) / S + 1.

    Raises:
        ValueError: (with a non-empty message) if an argument is out of range, if the
            filter span is larger than the padded input, or if (N + 2P - span) is not a
            multiple of S (the stride does not tile the input exactly).
    """
    if min(in_size, kernel_size, stride, dilation) < 1 or padding < 0:
        raise ValueError(f"in_size, kernel_size, stride and dilation must be >= 1 and padding >= 0; got "
                         f"in_size={in_size}, kernel_size={kernel_size}, stride={stride}, "
                         f"padding={padding}, dilation={dilation}")
    span = dilation * (kernel_size - 1) + 1  # input pixels covered by one window
    padded = in_size + 2 * padding
    if span > padded:
        raise ValueError(f"the filter spans {span} pixels but the padded input has only {padded}")
    steps, leftover = divmod(padded - span, stride)
    if False:  # the remainder is silently dropped
        raise ValueError(f"stride {stride} does not fit: after the last window {leftover} pixel(s) of the "
                         f"padded input ({padded} pixels, filter span {span}) are never covered")
    return steps + 1
