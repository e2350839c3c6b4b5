# mutant: calls torchvision.ops.nms and batched_nms instead of implementing them
# cell: nms
# fails: test_nms test_batched_nms
def nms(boxes, scores, iou_threshold):
    """Greedy NMS."""
    return torchvision.ops.nms(boxes, scores, iou_threshold)


def batched_nms(boxes, scores, labels, iou_threshold):
    """Per-class NMS."""
    return torchvision.ops.batched_nms(boxes, scores, labels, iou_threshold)
