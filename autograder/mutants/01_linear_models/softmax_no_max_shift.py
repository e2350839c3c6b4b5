# mutant: softmax without subtracting the row maximum (overflows for large scores)
# cell: softmax_cross_entropy
# fails: test_softmax_cross_entropy
def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    rows = torch.arange(n)
    e = torch.exp(scores)
    probs = e / e.sum(dim=1, keepdim=True)
    loss = -torch.log(probs[rows, labels]).mean()
    d = probs.clone()
    d[rows, labels] -= 1.0
    return loss, d / n
