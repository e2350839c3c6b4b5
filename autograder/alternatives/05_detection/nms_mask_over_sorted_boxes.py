# alternative: sorts the boxes once and switches off later boxes in a boolean mask; batched NMS by offsetting each class
# cell: nms
def nms(boxes, scores, iou_threshold):
    """Greedy NMS on the boxes sorted by score."""
    order = torch.sort(scores, descending=True, stable=True).indices
    iou = box_iou(boxes[order], boxes[order])  # [N, N] in rank order
    alive = torch.ones(len(order), dtype=torch.bool)
    for r in range(len(order)):
        if alive[r]:
            alive[r + 1:] &= iou[r, r + 1:] <= iou_threshold
    return order[alive]


def batched_nms(boxes, scores, labels, iou_threshold):
    """torchvision's trick: move each class to its own region of the plane, then one NMS."""
    if len(boxes) == 0:
        return torch.empty(0, dtype=torch.int64)
    shift = labels.to(boxes.dtype) * (boxes.max() - boxes.min() + 1)
    shifted = boxes - boxes.min() + shift[:, None]
    return nms(shifted, scores, iou_threshold)
