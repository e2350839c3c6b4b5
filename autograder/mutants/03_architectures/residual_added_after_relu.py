# mutant: adds the shortcut after the final ReLU
# cell: residual_block_forward
# fails: test_residual_identity
def residual_block_forward(x, conv1, bn1, conv2, bn2, shortcut=None):
    """Forward pass of a ResNet basic block built from given modules.

    out = relu( bn2(conv2(relu(bn1(conv1(x))))) + s ), where s = x if shortcut is None,
    else s = shortcut(x). The residual is added BEFORE the final ReLU.

    Args:
        x: Tensor[N, C_in, H, W].
        conv1, bn1, conv2, bn2: modules (nn.Conv2d, nn.BatchNorm2d); call them, whatever
            mode (train/eval) they are in.
        shortcut: None (identity) or a module mapping x to the block's output shape.

    Returns:
        Tensor[N, C_out, H_out, W_out].
    """
    identity = x if shortcut is None else shortcut(x)
    out = torch.relu(bn1(conv1(x)))  # [N, C_out, H_out, W_out]
    out = bn2(conv2(out))
    return torch.relu(out) + identity
