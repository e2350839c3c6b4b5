# mutant: returns the kept boxes class by class instead of by decreasing score
# cell: nms
# fails: test_batched_nms
def nms(boxes, scores, iou_threshold):
    """Greedy non-maximum suppression.

    Args:
        boxes: Tensor[N, 4] float, xyxy pixels.
        scores: Tensor[N] float.
        iou_threshold: float; a box whose IoU with a kept, higher-ranked box is
            strictly greater than this is removed.

    Returns:
        Tensor[K] int64: indices of the kept boxes, by decreasing score (equal scores:
        lower index first).
    """
    ranked = torch.sort(scores, descending=True, stable=True).indices
    overlaps = box_iou(boxes, boxes)  # [N, N]
    removed = torch.zeros(len(boxes), dtype=torch.bool, device=boxes.device)
    kept = []
    for i in ranked.tolist():
        if removed[i]:
            continue  # suppressed boxes never suppress others
        kept.append(i)
        removed |= overlaps[i] > iou_threshold
    return torch.tensor(kept, dtype=torch.int64, device=boxes.device)


def batched_nms(boxes, scores, labels, iou_threshold):
    """Non-maximum suppression within each class: boxes of different labels never suppress each other.

    Args:
        boxes: Tensor[N, 4] float, xyxy pixels.
        scores: Tensor[N] float.
        labels: Tensor[N] int64, the class of each box.
        iou_threshold: float, as in nms.

    Returns:
        Tensor[K] int64: indices of the kept boxes (of all classes together), by decreasing
        score (equal scores: lower index first).
    """
    survivors = [torch.empty(0, dtype=torch.int64, device=boxes.device)]
    for label in torch.unique(labels).tolist():
        members = torch.nonzero(labels == label).flatten()  # indices of this class
        survivors.append(members[nms(boxes[members], scores[members], iou_threshold)])
    return torch.cat(survivors)
