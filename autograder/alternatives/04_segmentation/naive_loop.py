# alternative: grows the receptive field layer by layer until it is large enough
# cell: naive_costs
def layers_for_receptive_field(target, kernel_size=3, dilation=1):
    if kernel_size == 1 and target > 1:
        raise ValueError("a stack of 1x1 convolutions sees one pixel")
    layers, field = 0, 1
    while field < target:
        field += dilation * (kernel_size - 1)
        layers += 1
    return layers


def activation_memory_bytes(channels, height, width, layers=1, batch=1, bytes_per_value=4):
    return int(math.prod([channels, height, width, layers, batch, bytes_per_value]))
