# alternative: walks the stack from the output back to the input
# cell: receptive_field
def receptive_field(layers):
    """Receptive field and jump of a stack of (kernel_size, stride, dilation) layers (see the text)."""
    for layer in layers:
        if any(type(v) is not int or v < 1 for v in layer):
            raise ValueError(f"bad layer {layer}")
    size = 1  # one output position of the last layer
    for k, s, d in reversed(layers):
        size = (size - 1) * s + d * (k - 1) + 1  # positions of this layer's input it covers
    jump = 1
    for _, s, _ in layers:
        jump = jump * s
    return size, jump
