# alternative: 0-d bool tensors as values, torch.allclose-free exact comparisons
# cell: audit_view_pairs
def audit_view_pairs(make_pair, images, seed=0):
    def run(s):
        return make_pair(images, torch.Generator().manual_seed(s))

    v1, v2 = run(seed)
    ok_shape = tuple(v1.shape) == tuple(images.shape) and tuple(v2.shape) == tuple(images.shape)
    result = dict.fromkeys(["same_shape", "in_range", "views_differ", "reproducible", "seed_matters"], torch.tensor(False))
    if not ok_shape:
        return result
    w1, w2 = run(seed)
    o1 = run(seed + 1)[0]
    both = torch.stack([v1, v2])
    result["same_shape"] = torch.tensor(True)
    result["in_range"] = ((both >= 0) & (both <= 1)).all()
    result["views_differ"] = ((v1 - v2).abs().amax(dim=tuple(range(1, v1.ndim))) > 1e-6).all()
    result["reproducible"] = (v1 == w1).all() & (v2 == w2).all()
    result["seed_matters"] = ((v1 - o1).abs() > 1e-6).any()
    return result
