# mutant: memory forgets the batch size
# cell: naive_costs
# fails: test_naive_costs
def layers_for_receptive_field(target, kernel_size=3, dilation=1):
    if target <= 1:
        return 0
    growth = dilation * (kernel_size - 1)
    if growth == 0:
        raise ValueError("1x1 convolutions never grow the receptive field")
    return -(-(target - 1) // growth)


def activation_memory_bytes(channels, height, width, layers=1, batch=1, bytes_per_value=4):
    return layers * channels * height * width * bytes_per_value
