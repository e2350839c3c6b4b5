"""Small helpers shared by the model files."""
from __future__ import annotations


def scaled(channels: int, width: float, divisor: int = 1) -> int:
    """``channels * width`` rounded to a multiple of ``divisor`` (at least ``divisor``).

    Width multipliers shrink a network for CPU training; ``divisor`` keeps grouped
    convolutions valid.

    Examples:
        >>> scaled(96, 0.25), scaled(96, 0.01), scaled(384, 0.1, divisor=2)
        (24, 1, 38)
    """
    if not width > 0:
        raise ValueError(f"width must be positive, got {width}")
    return max(divisor, int(round(channels * width / divisor)) * divisor)
