# mutant: one anchor per size only: forgets the aspect ratios
# cell: count_anchors
# fails: test_count_anchors
def count_anchors(feature_size, sizes, ratios):
    """Total number of anchors on a feature map.

    Args:
        feature_size: (H', W') of the feature map, ints.
        sizes: list of anchor sizes (e.g. [128, 256, 512]).
        ratios: list of aspect ratios (e.g. [0.5, 1.0, 2.0]).

    Returns:
        int: the number of anchors.
    """
    per_position = len(sizes)
    return feature_size[0] * feature_size[1] * per_position
