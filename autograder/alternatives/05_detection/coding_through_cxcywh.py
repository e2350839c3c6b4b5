# alternative: converts to centre-size format first and works on columns
# cell: box_coding
def _centre_size(b):
    return torch.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], dim=1)


def encode_boxes(anchors, boxes):
    """Offsets in anchor units, log size ratios."""
    a, g = _centre_size(anchors), _centre_size(boxes)
    return torch.cat([(g[:, :2] - a[:, :2]) / a[:, 2:], torch.log(g[:, 2:] / a[:, 2:])], dim=1)


def decode_boxes(deltas, anchors):
    """Inverse of encode_boxes."""
    a = _centre_size(anchors)
    centre = a[:, :2] + deltas[:, :2] * a[:, 2:]
    size = a[:, 2:] * torch.exp(deltas[:, 2:])
    return torch.cat([centre - size / 2, centre + size / 2], dim=1)
