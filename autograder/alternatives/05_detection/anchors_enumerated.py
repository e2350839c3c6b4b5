# alternative: enumerates every (row, column, size, ratio) combination
# cell: count_anchors
import itertools


def count_anchors(feature_size, sizes, ratios):
    """Counts the combinations one by one."""
    return sum(1 for _ in itertools.product(range(feature_size[0]), range(feature_size[1]), sizes, ratios))
