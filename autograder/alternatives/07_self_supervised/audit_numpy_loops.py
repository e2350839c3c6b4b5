# alternative: numpy arrays and a loop over the images, numpy bools in the result
# cell: audit_view_pairs
import numpy as np


def audit_view_pairs(make_pair, images, seed=0):
    names = ["same_shape", "in_range", "views_differ", "reproducible", "seed_matters"]
    first = [np.asarray(v.detach()) for v in make_pair(images, torch.Generator().manual_seed(seed))]
    if any(v.shape != tuple(images.shape) for v in first):
        return dict.fromkeys(names, np.False_)
    second = [np.asarray(v.detach()) for v in make_pair(images, torch.Generator().manual_seed(seed))]
    shifted = np.asarray(make_pair(images, torch.Generator().manual_seed(seed + 1))[0].detach())
    differ = all(np.abs(first[0][i] - first[1][i]).max() > 1e-6 for i in range(len(first[0])))
    return {
        "same_shape": np.True_,
        "in_range": np.bool_(all(v.min() >= 0 and v.max() <= 1 for v in first)),
        "views_differ": np.bool_(differ),
        "reproducible": np.bool_(all(np.array_equal(a, b) for a, b in zip(first, second))),
        "seed_matters": np.bool_(np.abs(first[0] - shifted).max() > 1e-6),
    }
