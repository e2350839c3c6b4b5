# mutant: a loop version that builds the result with torch.tensor(rows): [0] instead of [0, M]
# cell: box_iou
# fails: test_box_iou_edge_cases
def box_iou(boxes1, boxes2):
    """Pairwise IoU, one pair at a time."""
    def pair(a, b):
        iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - iw * ih
        return iw * ih / union if union > 0 else 0.0

    return torch.tensor([[pair(a, b) for b in boxes2.tolist()] for a in boxes1.tolist()], dtype=boxes1.dtype)
