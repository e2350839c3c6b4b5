# alternative: every term written out (log-sigmoid, log-softmax, smooth L1 by where), masks through nonzero
# cell: detection_loss
def detection_loss(outputs, encoded, class_weight=2.0, box_weight=2.0):
    b_idx, r_idx, c_idx = encoded["positive"].nonzero(as_tuple=True)
    n = max(len(b_idx), 1)
    z = outputs["objectness"][:, 0]
    y = encoded["positive"].to(z.dtype)
    loss_obj = -(y * F.logsigmoid(z) + (1 - y) * F.logsigmoid(-z)).sum() / n
    logits = outputs["class_logits"][b_idx, :, r_idx, c_idx]  # [P, K]
    cls = encoded["labels"][b_idx, r_idx, c_idx] - 1
    loss_cls = -torch.log_softmax(logits, dim=1).gather(1, cls[:, None]).sum() / n
    diff = (outputs["box_deltas"][b_idx, :, r_idx, c_idx]
            - encoded["box_deltas"][b_idx, :, r_idx, c_idx].to(logits.dtype)).abs()
    beta = 1.0 / 9.0
    loss_box = torch.where(diff < beta, 0.5 * diff ** 2 / beta, diff - 0.5 * beta).sum() / n
    return loss_obj + class_weight * loss_cls + box_weight * loss_box
