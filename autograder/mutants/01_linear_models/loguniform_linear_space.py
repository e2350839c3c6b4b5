# mutant: samples uniformly in linear space
# cell: sample_log_uniform
# fails: test_sample_log_uniform
def sample_log_uniform(low, high, n, generator):
    if low <= 0 or high <= low:
        raise ValueError("bad range")
    return low + (high - low) * torch.rand(n, generator=generator, dtype=torch.float64)
