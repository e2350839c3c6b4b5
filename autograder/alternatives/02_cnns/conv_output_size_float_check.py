# alternative: float division and is_integer
# cell: conv_output_size
def conv_output_size(in_size, kernel_size, stride=1, padding=0, dilation=1):
    if in_size <= 0 or kernel_size <= 0 or stride <= 0 or dilation <= 0 or padding < 0:
        raise ValueError("invalid convolution arguments")
    effective = dilation * (kernel_size - 1) + 1
    if effective > in_size + 2 * padding:
        raise ValueError("filter larger than the padded input")
    windows = (in_size + 2 * padding - effective) / stride + 1
    if not float(windows).is_integer():
        raise ValueError(f"(N + 2P - F) / S + 1 = {windows:.3f} is not an integer")
    return int(windows)
