# mutant: the hinge sum includes j = y, adding the margin once per example
# cell: hinge_loss
# fails: test_hinge_loss
def hinge_loss(scores, labels, margin=1.0):
    n = scores.shape[0]
    rows = torch.arange(n)
    correct = scores[rows, labels].unsqueeze(1)
    margins = torch.clamp(scores - correct + margin, min=0)
    loss = margins.sum() / n
    violated = (margins > 0).to(scores.dtype)
    violated[rows, labels] = 0
    dscores = violated.clone()
    dscores[rows, labels] = -violated.sum(dim=1)
    return loss, dscores / n
