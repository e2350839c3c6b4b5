# alternative: layers collected in a list, an in-place ReLU and MaxPool2d(2) with its default stride
# cell: conv_pool_block
def conv_pool_block(in_channels, out_channels, kernel_size, padding=0):
    layers = [nn.Conv2d(in_channels, out_channels, kernel_size=kernel_size, padding=padding)]
    layers += [nn.ReLU(inplace=True), nn.MaxPool2d(2)]
    return nn.Sequential(*layers)
