# alternative: numpy floor division and clip, back to a torch int64 tensor
# cell: ab_to_bin
import numpy as np


def ab_to_bin(ab, grid_size=10.0, ab_max=110.0):
    n = int(2 * ab_max // grid_size)
    idx = np.clip(np.floor_divide(ab.double().numpy() + ab_max, grid_size), 0, n - 1).astype(np.int64)
    return torch.from_numpy(idx[:, 0] * n + idx[:, 1])
