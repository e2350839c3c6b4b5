# alternative: two loops over Python floats, result shaped explicitly
# cell: box_iou
def box_iou(boxes1, boxes2):
    """Pairwise IoU, one pair at a time, the formula spelled out."""
    out = torch.zeros(len(boxes1), len(boxes2), dtype=boxes1.dtype)
    for i, (ax1, ay1, ax2, ay2) in enumerate(boxes1.tolist()):
        for j, (bx1, by1, bx2, by2) in enumerate(boxes2.tolist()):
            iw = min(ax2, bx2) - max(ax1, bx1)
            ih = min(ay2, by2) - max(ay1, by1)
            inter = iw * ih if iw > 0 and ih > 0 else 0.0
            union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
            out[i, j] = inter / union if union > 0 else 0.0
    return out
