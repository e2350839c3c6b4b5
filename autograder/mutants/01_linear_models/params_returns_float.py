# mutant: returns a float (e.g. from np.prod / math.prod on floats) instead of an int
# cell: mlp_parameter_count
# fails: test_mlp_parameter_count
def mlp_parameter_count(sizes):
    if len(sizes) < 2:
        raise ValueError("need at least 2 sizes")
    return float(sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:])))
