# alternative: pairs skips, up-convolutions and decoder blocks with zip, torch.concat, detached nothing
# cell: unet_forward
def unet_forward(net, x):
    features = [net.inc(x)]
    for block in net.down:
        features.append(block(net.pool(features[-1])))
    x = features.pop()  # the bottleneck
    for skip, up, dec in zip(reversed(features), reversed(list(net.up)), reversed(list(net.dec))):
        x = dec(torch.concat((skip, up(x)), 1))
    return net.head(x)
