# mutant: calls torchvision.ops.box_iou instead of implementing it
# cell: box_iou
# fails: test_box_iou_cases test_box_iou_edge_cases
def box_iou(boxes1, boxes2):
    """Pairwise IoU."""
    return torch.nan_to_num(torchvision.ops.box_iou(boxes1, boxes2), nan=0.0)
