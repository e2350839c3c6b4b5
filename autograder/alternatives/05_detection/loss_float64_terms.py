# alternative: computes each term in float64 and returns it in the outputs' dtype; a list of terms summed
# cell: detection_loss
def detection_loss(outputs, encoded, class_weight=2.0, box_weight=2.0):
    pos = encoded["positive"]
    n = float(max(pos.sum().item(), 1))
    dtype = outputs["objectness"].dtype
    obj = outputs["objectness"].double().squeeze(1)
    terms = [F.binary_cross_entropy_with_logits(obj, pos.double(), reduction="sum")]
    cls = outputs["class_logits"].double().movedim(1, -1)[pos]
    terms.append(class_weight * F.cross_entropy(cls, encoded["labels"][pos] - 1, reduction="sum"))
    pred = outputs["box_deltas"].double().movedim(1, -1)[pos]
    target = encoded["box_deltas"].double().movedim(1, -1)[pos]
    terms.append(box_weight * F.smooth_l1_loss(pred, target, beta=1 / 9, reduction="sum"))
    return (sum(terms) / n).to(dtype)
