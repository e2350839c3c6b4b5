"""Losses that are more than a one-liner of ``torch.nn.functional``.

* :mod:`course_utils.losses.contrastive`: the NT-Xent / InfoNCE loss of contrastive
  self-supervised learning (SimCLR), vectorized and as a readable loop (chapter 07).
"""
from course_utils.losses.contrastive import info_nce, nt_xent, nt_xent_loop, nt_xent_targets

__all__ = ["info_nce", "nt_xent", "nt_xent_loop", "nt_xent_targets"]
