# mutant: the backward pass ignores the ReLU (passes the gradient through inactive units)
# cell: two_layer_forward_backward
# fails: test_two_layer_forward_backward
def two_layer_forward_backward(x, W1, b1, W2, b2, dscores):
    z1 = x @ W1.T + b1
    h = torch.relu(z1)
    scores = h @ W2.T + b2
    dz1 = dscores @ W2
    return scores, {"W2": dscores.T @ h, "b2": dscores.sum(dim=0), "W1": dz1.T @ x, "b1": dz1.sum(dim=0), "x": dz1 @ W1}
