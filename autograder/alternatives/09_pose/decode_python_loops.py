# alternative: plain Python loops for both decoders (float64 sums, results cast back)
# cell: decode_heatmaps
def argmax_keypoints(heatmaps):
    """Scan each map, keep the first strictly larger value."""
    out = torch.zeros(heatmaps.shape[0], heatmaps.shape[1], 2, dtype=heatmaps.dtype)
    for b, maps in enumerate(heatmaps.tolist()):
        for k, grid in enumerate(maps):
            best, where = grid[0][0], (0, 0)
            for r, row in enumerate(grid):
                for c, value in enumerate(row):
                    if value > best:
                        best, where = value, (c, r)
            out[b, k, 0], out[b, k, 1] = where
    return out


def soft_argmax(heatmaps, beta=1.0):
    """The expectation, one map at a time."""
    out = torch.zeros(heatmaps.shape[0], heatmaps.shape[1], 2, dtype=heatmaps.dtype)
    for b, maps in enumerate(heatmaps.tolist()):
        for k, grid in enumerate(maps):
            top = max(beta * v for row in grid for v in row)
            weights = [[math.exp(beta * v - top) for v in row] for row in grid]
            total = sum(sum(row) for row in weights)
            out[b, k, 0] = sum(w * c for row in weights for c, w in enumerate(row)) / total
            out[b, k, 1] = sum(w * r for r, row in enumerate(weights) for w in row) / total
    return out
