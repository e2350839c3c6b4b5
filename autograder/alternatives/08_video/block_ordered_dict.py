# alternative: a named nn.Sequential, in-place ReLU, padding given per axis
# cell: conv3d_block
from collections import OrderedDict


def conv3d_block(in_channels, out_channels, pool):
    return nn.Sequential(OrderedDict([
        ("conv", nn.Conv3d(in_channels, out_channels, kernel_size=(3, 3, 3), padding=(1, 1, 1), bias=False)),
        ("bn", nn.BatchNorm3d(out_channels)),
        ("relu", nn.ReLU(inplace=True)),
        ("pool", nn.MaxPool3d(pool)),
    ]))
