# alternative: math.floor of a true division for M, and the two terms computed separately
# cell: conv2plus1d_parameters
import math


def conv2plus1d_parameters(in_channels, out_channels, kernel_t=3, kernel_s=3, mid_channels=None):
    m = mid_channels
    if m is None:
        m = math.floor(kernel_t * kernel_s * kernel_s * in_channels * out_channels
                       / (kernel_s * kernel_s * in_channels + kernel_t * out_channels))
    spatial = in_channels * m * kernel_s * kernel_s  # 1 x ks x ks, in -> M
    temporal = m * out_channels * kernel_t  # kt x 1 x 1, M -> out
    return spatial + temporal
