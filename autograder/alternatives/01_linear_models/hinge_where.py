# alternative: torch.where masks and scatter for the correct-class gradient
# cell: hinge_loss
def hinge_loss(scores, labels, margin=1.0):
    n, c = scores.shape
    onehot = F.one_hot(labels, c).bool()
    correct = scores.gather(1, labels[:, None])
    m = torch.where(onehot, torch.zeros_like(scores), (scores - correct + margin).clamp(min=0))
    pos = (m > 0).to(scores.dtype)
    d = pos - onehot.to(scores.dtype) * pos.sum(dim=1, keepdim=True)
    return m.sum(dim=1).mean(), d / n
