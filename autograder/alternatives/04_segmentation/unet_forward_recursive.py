# alternative: recursion over the levels
# cell: unet_forward
def unet_forward(net, x):
    def level(i, h):
        if i == len(net.down):
            return h
        below = level(i + 1, net.down[i](net.pool(h)))
        return net.dec[i](torch.cat([h, net.up[i](below)], dim=1))
    return net.head(level(0, net.inc(x)))
