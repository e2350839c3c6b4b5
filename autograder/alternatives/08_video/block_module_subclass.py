# alternative: an nn.Module subclass with its own forward and the functional ReLU
# cell: conv3d_block
class Conv3dBlock(nn.Module):
    def __init__(self, in_channels, out_channels, pool):
        super().__init__()
        self.conv = nn.Conv3d(in_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.norm = nn.BatchNorm3d(out_channels)
        self.pool = nn.MaxPool3d(kernel_size=pool, stride=pool)

    def forward(self, x):
        return self.pool(F.relu(self.norm(self.conv(x))))


def conv3d_block(in_channels, out_channels, pool):
    return Conv3dBlock(in_channels, out_channels, pool)
