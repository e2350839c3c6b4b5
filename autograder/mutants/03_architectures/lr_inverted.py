# mutant: learning rate scaled by base_batch / batch
# cell: linear_lr_scaling
# fails: test_scaled_learning_rate
def scaled_learning_rate(base_lr, base_batch_size, batch_size):
    """Learning rate for batch_size by the linear scaling rule, given base_lr at base_batch_size."""
    if not base_lr > 0:
        raise ValueError(f"base_lr must be positive, got {base_lr}")
    for name, value in (("base_batch_size", base_batch_size), ("batch_size", batch_size)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    return float(base_lr * base_batch_size / batch_size)


def warmup_factor(step, warmup_steps):
    """Multiplier of the learning rate at optimizer step `step` (0-based) with linear warm-up."""
    if warmup_steps <= 0:
        return 1.0
    return float(min(1.0, (step + 1) / warmup_steps))
