"""Visual question answering, small: a bag-of-words question fused with every cell of a CNN grid.

The answer is a class (one of :data:`course_utils.data.questions.ANSWERS`), as in the
"simple baseline" of Zhou et al. (2015), which classifies the concatenation of a CNN
feature and a bag of words. A single image vector is too coarse for "what colour is the
square?" (which cell holds the square?), so :class:`VQANet` fuses the question with
*every* cell before pooling:

1. question: mean of its word embeddings, projected: ``q [B, D]`` (bag of words);
2. each cell ``i``: ``z_i = MLP(relu(W f_i + p_i) * q)``, the cell's features (plus a
   learned position ``p_i``) gated by the question: the question decides which features
   of a cell matter (FiLM-like multiplicative fusion, Perez et al., 2018);
3. pooled over the cells by mean (how much, for counting) and max (is it anywhere), and
   classified together with ``q``.

``use_image=False`` gives the question-only baseline: the same question encoder and
classifier, no image.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from course_utils.checks import check_positive_int, check_tensor

__all__ = ["VQANet"]


class VQANet(nn.Module):
    """Answer a question about an image from the encoder's feature grid.

    Args:
        vocab_size: words of the questions (index 0 is padding).
        num_answers: classes.
        feature_channels, grid: the feature grid ``[C, grid, grid]``.
        dim: width of the fusion.
        use_image: ``False`` for the question-only baseline.

    ``forward(features Tensor[B, C, g, g], tokens Tensor[B, L]) -> logits Tensor[B, num_answers]``
    (``features`` is ignored, and may be None, when ``use_image`` is False).

    Examples:
        >>> net = VQANet(30, 21, 64, 8)
        >>> net(torch.zeros(2, 64, 8, 8), torch.tensor([[3, 4, 0], [5, 0, 0]])).shape
        torch.Size([2, 21])
        >>> VQANet(30, 21, 64, 8, use_image=False)(None, torch.tensor([[3, 4]])).shape
        torch.Size([1, 21])
    """

    def __init__(self, vocab_size: int, num_answers: int, feature_channels: int, grid: int, dim: int = 64,
                 use_image: bool = True) -> None:
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("num_answers", num_answers),
                            ("feature_channels", feature_channels), ("grid", grid), ("dim", dim)):
            check_positive_int(value, name)
        self.use_image = bool(use_image)
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.question = nn.Sequential(nn.Linear(dim, dim), nn.ReLU())
        if self.use_image:
            self.cell = nn.Linear(feature_channels, dim)
            self.position = nn.Parameter(torch.randn(1, grid * grid, dim) * 0.1)
            self.fuse = nn.Sequential(nn.Linear(dim, dim), nn.ReLU())
        inputs = 3 * dim if self.use_image else dim
        self.classifier = nn.Sequential(nn.Linear(inputs, 2 * dim), nn.ReLU(), nn.Linear(2 * dim, num_answers))

    def encode_question(self, tokens: Tensor) -> Tensor:
        """Bag of words: the mean embedding of the non-padding words, projected, ``[B, dim]``."""
        check_tensor(tokens, "tokens", ndim=2)
        words = (tokens > 0).float()[..., None]  # [B, L, 1]
        mean = (self.embed(tokens) * words).sum(dim=1) / words.sum(dim=1).clamp(min=1)  # [B, dim]
        return self.question(mean)

    def forward(self, features: Tensor | None, tokens: Tensor) -> Tensor:
        q = self.encode_question(tokens)  # [B, D]
        if not self.use_image:
            return self.classifier(q)
        cells = features.flatten(2).transpose(1, 2)  # [B, P, C]
        z = self.fuse(torch.relu(self.cell(cells) + self.position) * q[:, None])  # [B, P, D]: gated by the question
        return self.classifier(torch.cat([z.mean(dim=1), z.amax(dim=1), q], dim=1))
