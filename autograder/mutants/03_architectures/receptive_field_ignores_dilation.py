# mutant: dilation ignored
# cell: receptive_field
# fails: test_receptive_field
def receptive_field(layers):
    """Receptive field and jump of a stack of (kernel_size, stride, dilation) layers.

    Args:
        layers: list of (kernel_size, stride, dilation) tuples of positive ints, input first.

    Returns:
        (rf, jump): ints; rf is the receptive field of one output of the last layer (input
        pixels, along one axis), jump the spacing of neighbouring outputs in input pixels.
        An empty stack gives (1, 1).

    Raises:
        ValueError: a value that is not a positive int.
    """
    rf, jump = 1, 1
    for kernel_size, stride, dilation in layers:
        for value in (kernel_size, stride, dilation):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"layer values must be positive ints, got {(kernel_size, stride, dilation)}")
        rf += (kernel_size - 1) * jump
        jump *= stride
    return rf, jump
