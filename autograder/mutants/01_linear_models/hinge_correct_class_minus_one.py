# mutant: the correct class gets -1 instead of -(number of violating classes)
# cell: hinge_loss
# fails: test_hinge_loss
def hinge_loss(scores, labels, margin=1.0):
    n = scores.shape[0]
    rows = torch.arange(n)
    correct = scores[rows, labels].unsqueeze(1)
    margins = torch.clamp(scores - correct + margin, min=0)
    margins[rows, labels] = 0
    loss = margins.sum() / n
    dscores = (margins > 0).to(scores.dtype)
    dscores[rows, labels] = -(dscores.sum(dim=1) > 0).to(scores.dtype)
    return loss, dscores / n
