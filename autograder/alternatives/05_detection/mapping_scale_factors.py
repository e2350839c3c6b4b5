# alternative: scales by feature/image ratios, coordinate by coordinate
# cell: box_mapping
def image_to_feature(boxes, image_size, feature_size):
    """Scale x by W'/W and y by H'/H."""
    fx, fy = feature_size[1] / image_size[1], feature_size[0] / image_size[0]
    return torch.stack([boxes[:, 0] * fx, boxes[:, 1] * fy, boxes[:, 2] * fx, boxes[:, 3] * fy], dim=1)


def feature_to_image(boxes, image_size, feature_size):
    """The same with the sizes swapped."""
    return image_to_feature(boxes, feature_size, image_size)
