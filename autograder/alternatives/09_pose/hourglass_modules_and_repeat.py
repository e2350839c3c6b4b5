# alternative: pooling as an nn.MaxPool2d attribute (no parameters), upsampling by repeat_interleave, another creation order
# cell: hourglass
class Hourglass(nn.Module):
    """Same parameters, built in another order."""

    def __init__(self, depth, channels):
        super().__init__()
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.up = Residual(channels, channels)
        if depth == 1:
            self.inner = Residual(channels, channels)
        else:
            self.inner = Hourglass(depth - 1, channels)
        self.down = Residual(channels, channels)
        self.skip = Residual(channels, channels)

    def forward(self, x):
        y = self.up(self.inner(self.down(self.pool(x))))
        y = y.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
        return self.skip(x) + y
