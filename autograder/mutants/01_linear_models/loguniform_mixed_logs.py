# mutant: natural log for the exponents but 10** to come back (wrong range)
# cell: sample_log_uniform
# fails: test_sample_log_uniform
def sample_log_uniform(low, high, n, generator):
    if low <= 0 or high <= low:
        raise ValueError("bad range")
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    return 10.0 ** (math.log(low) + u * (math.log(high) - math.log(low)))
