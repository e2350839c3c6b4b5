# mutant: ignores the generator and uses the global random state
# cell: sample_log_uniform
# fails: test_sample_log_uniform
def sample_log_uniform(low, high, n, generator):
    if low <= 0 or high <= low:
        raise ValueError("bad range")
    u = torch.rand(n, dtype=torch.float64)
    return 10.0 ** (math.log10(low) + u * (math.log10(high) - math.log10(low)))
