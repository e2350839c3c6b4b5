# alternative: explicit loops, math.floor of a true division, the shape as a list
# cell: conv3d_arithmetic
import math


def conv3d_output_shape(input_shape, out_channels, kernel_size, stride=1, padding=0):
    shape = [out_channels]
    for axis in range(3):
        k = kernel_size[axis] if isinstance(kernel_size, (tuple, list)) else kernel_size
        s = stride[axis] if isinstance(stride, (tuple, list)) else stride
        p = padding[axis] if isinstance(padding, (tuple, list)) else padding
        shape.append(math.floor((input_shape[axis + 1] + 2 * p - k) / s) + 1)
    return shape


def conv3d_parameters(in_channels, out_channels, kernel_size, bias=True):
    sizes = list(kernel_size) if isinstance(kernel_size, (tuple, list)) else [kernel_size] * 3
    count = out_channels * in_channels * math.prod(sizes)
    if bias:
        count += out_channels
    return count
