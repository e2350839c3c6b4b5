# alternative: one forward pass per position, probabilities through exp / sum
# cell: occlusion_map
def occlusion_map(model, image, label, patch, stride, fill=0.0):
    rows = range(0, image.shape[1] - patch + 1, stride)
    cols = range(0, image.shape[2] - patch + 1, stride)
    out = []
    for top in rows:
        line = []
        for left in cols:
            occluded = image.clone()
            occluded[:, top:top + patch, left:left + patch] = fill
            with torch.no_grad():
                scores = model(occluded.unsqueeze(0))[0]
            weights = torch.exp(scores - scores.max())
            line.append(weights[label] / weights.sum())
        out.append(torch.stack(line))
    return torch.stack(out)
