# alternative: loops over images and channels
# cell: class_activation_map
def class_activation_map(features, fc_weight, classes):
    n, c, h, w = features.shape
    out = torch.zeros(n, h, w, dtype=features.dtype)
    for i in range(n):
        for channel in range(c):
            out[i] = out[i] + fc_weight[int(classes[i]), channel] * features[i, channel]
    return out
