# alternative: F.relu, residual added in place
# cell: residual_block_forward
def residual_block_forward(x, conv1, bn1, conv2, bn2, shortcut=None):
    """Forward pass of a ResNet basic block built from given modules (see the text)."""
    h = F.relu(bn1(conv1(x)))
    h = bn2(conv2(h))
    h += x if shortcut is None else shortcut(x)
    return F.relu(h)
