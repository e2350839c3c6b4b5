# mutant: multiplies by the stride when going to the feature map (and divides back)
# cell: box_mapping
# fails: test_box_mapping
def image_to_feature(boxes, image_size, feature_size):
    """Map xyxy boxes from image pixels to feature-map coordinates.

    Args:
        boxes: Tensor[N, 4] float, xyxy in image pixels.
        image_size: (H, W) of the image.
        feature_size: (H', W') of the feature map.

    Returns:
        Tensor[N, 4], xyxy in feature-map cells (x divided by the horizontal stride W / W',
        y by the vertical stride H / H').
    """
    stride_y = image_size[0] / feature_size[0]
    stride_x = image_size[1] / feature_size[1]
    return boxes * boxes.new_tensor([stride_x, stride_y, stride_x, stride_y])


def feature_to_image(boxes, image_size, feature_size):
    """Map xyxy boxes from feature-map coordinates back to image pixels (the inverse of image_to_feature)."""
    sy = image_size[0] / feature_size[0]
    sx = image_size[1] / feature_size[1]
    return boxes / boxes.new_tensor([sx, sy, sx, sy])
