# mutant: counts only the weights, forgetting the biases
# cell: mlp_parameter_count
# fails: test_mlp_parameter_count
def mlp_parameter_count(sizes):
    if len(sizes) < 2:
        raise ValueError("need at least 2 sizes")
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
