# alternative: numpy distances (with the square root) and a stable argsort
# cell: nearest_neighbors
import numpy as np


def nearest_neighbors(queries, gallery, k):
    q, g = queries.numpy(), gallery.numpy()
    distances = np.sqrt(((q[:, None, :] - g[None, :, :]) ** 2).sum(axis=2))
    order = np.argsort(distances, axis=1, kind="stable")[:, :k]
    return torch.from_numpy(order.astype(np.int64)).reshape(len(queries), k)
