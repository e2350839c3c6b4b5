# alternative: exp of a uniform natural-log exponent drawn with Tensor.uniform_
# cell: sample_log_uniform
def sample_log_uniform(low, high, n, generator):
    if not (0 < low < high):
        raise ValueError("need 0 < low < high")
    u = torch.empty(n, dtype=torch.float64).uniform_(math.log(low), math.log(high), generator=generator)
    return torch.exp(u).clamp(low, high)
