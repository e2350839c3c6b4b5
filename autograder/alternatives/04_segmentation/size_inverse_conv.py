# alternative: inverts the convolution's size formula, written differently
# cell: transpose_size
def conv_transpose_output_size(in_size, kernel_size, stride=1, padding=0, output_padding=0):
    if not 0 <= output_padding < stride:
        raise ValueError("output_padding must be in [0, stride)")
    padded = stride * (in_size - 1) + kernel_size  # the stamped area
    result = padded - padding - padding + output_padding
    if result <= 0:
        raise ValueError("nothing left after cropping")
    return int(result)
