# alternative: a hand-written nn.Module, pooling before the ReLU (max and ReLU commute) and functional calls
# cell: conv_pool_block
class ConvPool(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, padding):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, (kernel_size, kernel_size), stride=1, padding=padding, bias=True)

    def forward(self, x):
        return F.relu(F.max_pool2d(self.conv(x), 2))


def conv_pool_block(in_channels, out_channels, kernel_size, padding=0):
    return ConvPool(in_channels, out_channels, kernel_size, padding)
