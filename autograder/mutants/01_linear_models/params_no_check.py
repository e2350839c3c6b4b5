# mutant: no ValueError for a single size (returns 0)
# cell: mlp_parameter_count
# fails: test_mlp_parameter_count
def mlp_parameter_count(sizes):
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
