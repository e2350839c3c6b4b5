# alternative: walks the windows one by one and checks the end
# cell: conv_output_size
def conv_output_size(in_size, kernel_size, stride=1, padding=0, dilation=1):
    """Counts window positions explicitly."""
    for name, value, low in (("in_size", in_size, 1), ("kernel_size", kernel_size, 1), ("stride", stride, 1),
                             ("padding", padding, 0), ("dilation", dilation, 1)):
        if value < low:
            raise ValueError(f"{name} must be at least {low}, got {value}")
    total = in_size + 2 * padding
    reach = (kernel_size - 1) * dilation + 1
    count, start = 0, 0
    while start + reach <= total:
        count += 1
        start += stride
    if count == 0:
        raise ValueError(f"no window fits: the filter reaches {reach} pixels, the input has {total}")
    last_end = (count - 1) * stride + reach
    if last_end != total:
        raise ValueError(f"{total - last_end} pixel(s) at the end are never covered with stride {stride}")
    return count
