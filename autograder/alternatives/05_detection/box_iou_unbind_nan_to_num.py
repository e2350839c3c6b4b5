# alternative: unbinds the coordinates and repairs 0/0 with nan_to_num
# cell: box_iou
def box_iou(boxes1, boxes2):
    """Pairwise IoU with named coordinates."""
    ax1, ay1, ax2, ay2 = (c[:, None] for c in boxes1.unbind(1))  # [N, 1] each
    bx1, by1, bx2, by2 = (c[None, :] for c in boxes2.unbind(1))  # [1, M] each
    iw = (torch.min(ax2, bx2) - torch.max(ax1, bx1)).clamp(min=0)
    ih = (torch.min(ay2, by2) - torch.max(ay1, by1)).clamp(min=0)
    inter = iw * ih
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    return torch.nan_to_num(inter / union, nan=0.0)
