# mutant: the intersection is not clamped at 0 (boxes apart in x and y get a positive IoU)
# cell: box_iou
# fails: test_box_iou_cases
def box_iou(boxes1, boxes2):
    """Pairwise intersection over union of two sets of boxes.

    Args:
        boxes1: Tensor[N, 4] float, (x1, y1, x2, y2) in pixels with x1 <= x2, y1 <= y2.
        boxes2: Tensor[M, 4] float, same format.

    Returns:
        Tensor[N, M] (floating, the dtype of the inputs) with IoU(boxes1[i], boxes2[j])
        in [0, 1]; 0 where the union is 0 (two empty boxes).
    """
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])  # [N]
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])  # [M]
    top_left = torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])  # [N, M, 2]
    bottom_right = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])  # [N, M, 2]
    overlap = bottom_right - top_left  # [N, M, 2] no overlap -> 0, not negative
    inter = overlap[..., 0] * overlap[..., 1]  # [N, M]
    union = area1[:, None] + area2[None, :] - inter  # [N, M]
    return torch.where(union > 0, inter / union.clamp(min=torch.finfo(union.dtype).tiny), torch.zeros_like(inter))
