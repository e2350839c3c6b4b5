# mutant: the loss is a mean but the gradient forgets to divide by N
# cell: softmax_cross_entropy
# fails: test_softmax_cross_entropy
def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    rows = torch.arange(n)
    shifted = scores - scores.max(dim=1, keepdim=True).values
    log_probs = shifted - torch.logsumexp(shifted, dim=1, keepdim=True)
    loss = -log_probs[rows, labels].mean()
    d = torch.exp(log_probs)
    d[rows, labels] -= 1.0
    return loss, d
