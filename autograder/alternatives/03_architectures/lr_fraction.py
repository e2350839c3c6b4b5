# alternative: ratio first, warm-up with an if
# cell: linear_lr_scaling
def scaled_learning_rate(base_lr, base_batch_size, batch_size):
    if base_lr <= 0 or base_batch_size <= 0 or batch_size <= 0:
        raise ValueError("learning rate and batch sizes must be positive")
    ratio = batch_size / base_batch_size
    return ratio * base_lr


def warmup_factor(step, warmup_steps):
    if step >= warmup_steps:
        return 1.0
    return (step + 1) / warmup_steps
