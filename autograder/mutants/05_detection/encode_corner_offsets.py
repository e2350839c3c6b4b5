# mutant: offsets of the top-left corners instead of the centres
# cell: box_coding
# fails: test_box_coding
def encode_boxes(anchors, boxes):
    """Faster R-CNN regression targets of `boxes` relative to `anchors`.

    Args:
        anchors: Tensor[N, 4] float, xyxy pixels, positive width and height.
        boxes: Tensor[N, 4] float, xyxy pixels, positive width and height (box i goes with anchor i).

    Returns:
        Tensor[N, 4]: (t_x, t_y, t_w, t_h) for each pair.
    """
    anchor_w = anchors[:, 2] - anchors[:, 0]
    anchor_h = anchors[:, 3] - anchors[:, 1]
    anchor_cx = anchors[:, 0] + anchor_w / 2
    anchor_cy = anchors[:, 1] + anchor_h / 2
    box_w = boxes[:, 2] - boxes[:, 0]
    box_h = boxes[:, 3] - boxes[:, 1]
    box_cx = boxes[:, 0] + box_w / 2
    box_cy = boxes[:, 1] + box_h / 2
    return torch.stack([(boxes[:, 0] - anchors[:, 0]) / anchor_w, (boxes[:, 1] - anchors[:, 1]) / anchor_h,
                        torch.log(box_w / anchor_w), torch.log(box_h / anchor_h)], dim=1)  # [N, 4]


def decode_boxes(deltas, anchors):
    """Apply Faster R-CNN deltas to anchors: the inverse of encode_boxes.

    Args:
        deltas: Tensor[N, 4] float, (t_x, t_y, t_w, t_h).
        anchors: Tensor[N, 4] float, xyxy pixels.

    Returns:
        Tensor[N, 4]: the boxes, xyxy pixels.
    """
    wa = anchors[:, 2] - anchors[:, 0]
    ha = anchors[:, 3] - anchors[:, 1]
    centre_x = anchors[:, 0] + wa / 2 + deltas[:, 0] * wa
    centre_y = anchors[:, 1] + ha / 2 + deltas[:, 1] * ha
    half_w = torch.exp(deltas[:, 2]) * wa / 2
    half_h = torch.exp(deltas[:, 3]) * ha / 2
    return torch.stack([centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h], dim=1)  # [N, 4]
