# alternative: recursion over the layer list, and an explicit type check of the length
# cell: mlp_parameter_count
def mlp_parameter_count(sizes):
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError("sizes needs an input and an output")
    if len(sizes) == 2:
        return sizes[0] * sizes[1] + sizes[1]
    return mlp_parameter_count(sizes[:2]) + mlp_parameter_count(sizes[1:])
