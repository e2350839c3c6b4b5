"""Captioning the shapes scenes: a CNN encoder and two LSTM decoders, with and without attention.

Tokens and captions:

* :data:`CAPTION_TOKENS` is ``("<pad>", "<start>", "<end>")`` followed by the words of
  :data:`~course_utils.data.CAPTION_VOCAB`; :func:`encode_captions` turns captions into
  ``Tensor[N, L]`` int64 rows ``<start> w_1 .. w_n <end> <pad> ..``.
* Many captions describe one scene: a pair can be named in either order ("a red circle
  above a blue star." is "a blue star below a red circle."), and groups of three or more
  objects in any order. :func:`equivalent_captions` lists all the wordings (the
  references for evaluation); :func:`canonical_caption` picks one (the training target):
  for a pair, the upper or left object first ("above", "to the left of"); for three or
  more, the groups sorted by shape, then colour.

Models (image ``Tensor[B, 3, S, S]`` in [0, 1]; features ``Tensor[B, C, S/4, S/4]``):

* :class:`ShapesEncoder`: four convolutions with batch norm, a grid of feature vectors.
* :class:`ObjectNamer`: names the shape and colour of each object from the features
  under its mask, the recognition task that pretrains the encoder (like the ImageNet
  pretraining of the encoders of real captioners).
* :class:`CaptionDecoder`: an LSTM that sees the whole image as one vector, given at
  every step next to the previous word (Show and Tell's decoder with the image injected
  at every step, which trains faster than giving it only as the initial state).
* :class:`AttentionCaptionDecoder`: an LSTM over the words whose state, at every step,
  *queries* the grid (with two heads by default): dot-product scores with every cell,
  softmax weights, and the weighted sums of the cells (the contexts) go with the state
  into the word classifier (Luong et al., 2015, global attention; Show, Attend and Tell
  feeds the context back into the LSTM too, at the price of a step-by-step loop in
  training, which did not caption these scenes any better).

Both decoders take the previous words (teacher forcing in training) and return
next-word logits; :meth:`init_state` and :meth:`step` drive
:mod:`course_utils.models.decoding` at inference.
"""
from __future__ import annotations

import itertools
import math
import re

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.checks import check_positive_int, check_tensor
from course_utils.data.shapes import CAPTION_VOCAB, COLOR_NAMES, SHAPE_CLASSES, tokenize_caption

__all__ = [
    "CAPTION_TOKENS",
    "PAD",
    "START",
    "END",
    "encode_captions",
    "decode_tokens",
    "canonical_caption",
    "equivalent_captions",
    "ShapesEncoder",
    "ObjectNamer",
    "grid_masks",
    "CaptionDecoder",
    "AttentionCaptionDecoder",
    "caption_loss",
]

CAPTION_TOKENS: tuple[str, ...] = ("<pad>", "<start>", "<end>") + CAPTION_VOCAB
PAD, START, END = 0, 1, 2
_INDEX = {w: i for i, w in enumerate(CAPTION_TOKENS)}
_INVERSE = {"above": "below", "below": "above", "to the left of": "to the right of",
            "to the right of": "to the left of"}
_PAIR = re.compile(r"^(an? \w+ \w+) (above|below|to the left of|to the right of) (an? \w+ \w+)\.$")
_SINGULAR = {"circles": "circle", "squares": "square", "triangles": "triangle", "stars": "star", "rings": "ring"}


def encode_captions(captions: list[str], length: int | None = None) -> Tensor:
    """``<start>`` + the caption's tokens + ``<end>``, padded with ``<pad>`` to a common length.

    Args:
        captions: sentences made of :data:`CAPTION_VOCAB` words.
        length: the row length (default: the longest encoded caption).

    Returns:
        ``Tensor[N, L]`` int64.

    Examples:
        >>> ids = encode_captions(["a red star.", "an empty scene."])
        >>> ids.shape, decode_tokens(ids[0])
        (torch.Size([2, 6]), ['a', 'red', 'star', '.'])
    """
    rows = []
    for caption in captions:
        try:
            rows.append([START] + [_INDEX[w] for w in tokenize_caption(caption)] + [END])
        except KeyError as err:
            raise ValueError(f"word {err.args[0]!r} of {caption!r} is not a caption token") from None
    longest = max((len(r) for r in rows), default=0)
    length = longest if length is None else length
    if longest > length:
        raise ValueError(f"length {length} is too short for a caption of {longest} tokens")
    out = torch.full((len(rows), length), PAD, dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, :len(row)] = torch.tensor(row)
    return out


def decode_tokens(ids) -> list[str]:
    """Words of one encoded caption: stops at ``<end>``, skips ``<start>`` and ``<pad>``.

    Examples:
        >>> decode_tokens([1, 3, 2, 5])[:1] == [CAPTION_TOKENS[3]]
        True
    """
    words = []
    for i in (ids.tolist() if isinstance(ids, Tensor) else ids):
        if i == END:
            break
        if i not in (PAD, START):
            words.append(CAPTION_TOKENS[i])
    return words


def _groups(caption: str) -> list[str]:
    return re.split(r", | and ", caption.rstrip(".").strip())


def _join(groups: list[str]) -> str:
    return (groups[0] if len(groups) == 1 else ", ".join(groups[:-1]) + " and " + groups[-1]) + "."


def _group_key(group: str) -> tuple[int, int]:
    words = group.split()  # "a red circle" / "two green squares"
    return SHAPE_CLASSES.index(_SINGULAR.get(words[2], words[2])), COLOR_NAMES.index(words[1])


def equivalent_captions(caption: str) -> list[str]:
    """Every wording of the same scene: both orders of a pair, every order of the groups.

    Examples:
        >>> equivalent_captions("a red circle above a blue star.")
        ['a blue star below a red circle.', 'a red circle above a blue star.']
        >>> len(equivalent_captions("a red circle, a blue star and two green rings."))
        6
    """
    if not isinstance(caption, str):
        raise TypeError(f"caption must be a str, got {type(caption).__name__}")
    match = _PAIR.match(caption)
    if match:
        subject, relation, other = match.groups()
        return sorted({caption, f"{other} {_INVERSE[relation]} {subject}."})
    if caption == "an empty scene.":
        return [caption]
    return sorted({_join(list(order)) for order in itertools.permutations(_groups(caption))})


def canonical_caption(caption: str) -> str:
    """The one wording used as the training target (see the module docstring).

    Examples:
        >>> canonical_caption("a blue star below a red circle.")
        'a red circle above a blue star.'
        >>> canonical_caption("a yellow ring, two red squares and a blue circle.")
        'a blue circle, two red squares and a yellow ring.'
    """
    match = _PAIR.match(caption)
    if match:
        subject, relation, other = match.groups()
        if relation in ("below", "to the right of"):
            return f"{other} {_INVERSE[relation]} {subject}."
        return caption
    if caption == "an empty scene.":
        return caption
    return _join(sorted(_groups(caption), key=_group_key))


def _conv_bn_relu(cin: int, cout: int, kernel: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2, bias=False), nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True)]


class ShapesEncoder(nn.Module):
    """A small CNN that turns an image into a grid of feature vectors.

    ``conv5x5/2 (width) - conv3x3 (2 width) - maxpool 2 - conv3x3 (channels) - conv3x3 (channels)``,
    each convolution followed by batch norm and ReLU. The receptive field of a cell is 29
    pixels, most of a 32-pixel scene, and the grid is 4 times smaller than the image.

    Shape: ``Tensor[B, 3, S, S] -> Tensor[B, channels, S/4, S/4]``.

    Examples:
        >>> ShapesEncoder()(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 64, 8, 8])
    """

    def __init__(self, width: int = 16, channels: int = 64) -> None:
        super().__init__()
        check_positive_int(width, "width")
        check_positive_int(channels, "channels")
        self.channels = channels
        self.features = nn.Sequential(
            *_conv_bn_relu(3, width, 5, stride=2),
            *_conv_bn_relu(width, 2 * width, 3),
            nn.MaxPool2d(2),
            *_conv_bn_relu(2 * width, channels, 3),
            *_conv_bn_relu(channels, channels, 3),
        )

    def forward(self, x: Tensor) -> Tensor:
        check_tensor(x, "x", ndim=4)
        return self.features(x)  # [B, C, S/4, S/4]


def grid_masks(masks: list[Tensor], grid: int, max_objects: int) -> Tensor:
    """Object masks brought to the feature grid: the fraction of each cell an object covers.

    Args:
        masks: one ``Tensor[N_i, S, S]`` bool per image (its objects' visible pixels).
        grid: side of the feature grid (``S`` must be a multiple).
        max_objects: ``K >= N_i``; missing objects get all-zero masks.

    Returns:
        ``Tensor[B, K, grid, grid]`` float32 in [0, 1].

    Examples:
        >>> m = torch.zeros(1, 8, 8, dtype=torch.bool); m[0, :4, :4] = True
        >>> grid_masks([m], 2, 2)[0]
        tensor([[[1., 0.],
                 [0., 0.]],
        <BLANKLINE>
                [[0., 0.],
                 [0., 0.]]])
    """
    check_positive_int(grid, "grid")
    out = torch.zeros(len(masks), max_objects, grid, grid)
    for i, m in enumerate(masks):
        if len(m) > max_objects:
            raise ValueError(f"image {i} has {len(m)} objects, more than max_objects={max_objects}")
        if len(m):
            size = m.shape[-1]
            if size % grid:
                raise ValueError(f"image size {size} is not a multiple of the grid {grid}")
            out[i, :len(m)] = F.avg_pool2d(m.float()[None], size // grid)[0]
    return out


class ObjectNamer(nn.Module):
    """Shape and colour of every object, from the encoder's features averaged under its mask.

    Args:
        encoder: a :class:`ShapesEncoder`.
        num_shapes, num_colors: the classes (5 shapes and 8 colours in the shapes scenes).

    ``forward(images, masks)`` with ``masks`` from :func:`grid_masks` returns
    ``(shape logits Tensor[B, K, num_shapes], colour logits Tensor[B, K, num_colors])``.

    Examples:
        >>> namer = ObjectNamer(ShapesEncoder())
        >>> shapes, colours = namer(torch.zeros(2, 3, 32, 32), torch.ones(2, 3, 8, 8))
        >>> shapes.shape, colours.shape
        (torch.Size([2, 3, 5]), torch.Size([2, 3, 8]))
    """

    def __init__(self, encoder: ShapesEncoder, num_shapes: int = len(SHAPE_CLASSES) - 1,
                 num_colors: int = len(COLOR_NAMES)) -> None:
        super().__init__()
        self.encoder = encoder
        self.num_shapes = num_shapes
        self.head = nn.Linear(encoder.channels, num_shapes + num_colors)

    def forward(self, images: Tensor, masks: Tensor) -> tuple[Tensor, Tensor]:
        features = self.encoder(images)  # [B, C, g, g]
        area = masks.sum(dim=(2, 3)).clamp(min=1e-6)[..., None]  # [B, K, 1]
        pooled = torch.einsum("bkhw,bchw->bkc", masks, features) / area  # [B, K, C]: mean under each mask
        logits = self.head(pooled)  # [B, K, shapes + colours]
        return logits[..., :self.num_shapes], logits[..., self.num_shapes:]


def caption_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Mean cross-entropy of next-word logits ``[B, L, V]`` against ``targets [B, L]``, ignoring ``<pad>``.

    Examples:
        >>> logits = torch.zeros(1, 2, 4); logits[0, 0, 3] = 20.0
        >>> round(float(caption_loss(logits, torch.tensor([[3, PAD]]))), 6)
        0.0
    """
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=PAD)


class CaptionDecoder(nn.Module):
    """An LSTM captioner that sees the image as one vector (no attention).

    The feature grid is flattened and projected to ``image_dim`` numbers ``g`` (a linear
    layer on all cells keeps *where* things are). ``g`` sets the LSTM's initial state
    and is fed next to the previous word's embedding at every step.

    Args:
        feature_channels, grid: the encoder's output ``[C, grid, grid]``.
        vocab_size: number of tokens (``len(CAPTION_TOKENS)``).
        embed_dim, hidden_dim, image_dim: sizes.

    ``forward(features, inputs)`` with ``inputs`` the previous words ``Tensor[B, L]`` returns
    next-word logits ``Tensor[B, L, vocab_size]``.

    Examples:
        >>> dec = CaptionDecoder(64, 8, len(CAPTION_TOKENS))
        >>> dec(torch.zeros(2, 64, 8, 8), encode_captions(["a red star."] * 2)[:, :-1]).shape
        torch.Size([2, 5, 44])
    """

    def __init__(self, feature_channels: int, grid: int, vocab_size: int, embed_dim: int = 32,
                 hidden_dim: int = 128, image_dim: int = 128) -> None:
        super().__init__()
        for name, value in (("feature_channels", feature_channels), ("grid", grid), ("vocab_size", vocab_size),
                            ("embed_dim", embed_dim), ("hidden_dim", hidden_dim), ("image_dim", image_dim)):
            check_positive_int(value, name)
        self.image = nn.Sequential(nn.Flatten(), nn.Linear(feature_channels * grid * grid, image_dim), nn.ReLU())
        self.init_h = nn.Linear(image_dim, hidden_dim)
        self.init_c = nn.Linear(image_dim, hidden_dim)
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim + image_dim, hidden_dim, batch_first=True)
        self.out = nn.Linear(hidden_dim, vocab_size)

    def init_state(self, features: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(h [B, H], c [B, H], image vector [B, image_dim])`` before the first word."""
        g = self.image(features)  # [B, image_dim]
        return torch.tanh(self.init_h(g)), torch.tanh(self.init_c(g)), g

    def forward(self, features: Tensor, inputs: Tensor) -> Tensor:
        h, c, g = self.init_state(features)
        words = self.embed(inputs)  # [B, L, E]
        x = torch.cat([words, g[:, None].expand(-1, inputs.shape[1], -1)], dim=2)  # [B, L, E + image_dim]
        hidden, _ = self.lstm(x, (h[None], c[None]))  # [B, L, H]
        return self.out(hidden)  # [B, L, V]

    def step(self, tokens: Tensor, state: tuple[Tensor, Tensor, Tensor]):
        """One decoding step: ``(logits [B, V], new state)`` (see :mod:`course_utils.models.decoding`)."""
        h, c, g = state
        x = torch.cat([self.embed(tokens), g], dim=1)[:, None]  # [B, 1, E + image_dim]
        hidden, (h, c) = self.lstm(x, (h[None], c[None]))
        return self.out(hidden[:, 0]), (h[0], c[0], g)


class AttentionCaptionDecoder(nn.Module):
    """An LSTM captioner that looks at the feature grid through multi-head dot-product attention.

    At step ``t`` the LSTM state ``h_t`` (which has read the previous words) becomes one
    query per head, ``q_t^j = W_q^j h_t``; every grid cell ``i`` has a vector ``f_i`` (its
    features plus a learned position embedding, so that attention also knows *where* a
    cell is); head ``j`` scores the cells ``e_ti^j = q_t^j . f_i / sqrt(C)``, turns the scores
    into weights ``a_t^j = softmax(e_t^j)`` and takes the context ``c_t^j = sum_i a_ti^j f_i``;
    the word classifier reads ``[h_t, c_t^1, ..., c_t^h]``. Two heads can look at two
    objects at once, which a relation ("above") needs.

    Args:
        feature_channels, grid, vocab_size, embed_dim, hidden_dim: as :class:`CaptionDecoder`.
        num_heads: number of attention heads.

    ``forward(features, inputs, return_attention=False)`` returns the logits
    ``Tensor[B, L, V]`` and, if asked, the weights ``Tensor[B, num_heads, L, grid * grid]``.

    Examples:
        >>> dec = AttentionCaptionDecoder(64, 8, len(CAPTION_TOKENS))
        >>> logits, weights = dec(torch.zeros(2, 64, 8, 8), torch.ones(2, 5, dtype=torch.long), return_attention=True)
        >>> logits.shape, weights.shape
        (torch.Size([2, 5, 44]), torch.Size([2, 2, 5, 64]))
    """

    def __init__(self, feature_channels: int, grid: int, vocab_size: int, embed_dim: int = 32,
                 hidden_dim: int = 128, num_heads: int = 2) -> None:
        super().__init__()
        for name, value in (("feature_channels", feature_channels), ("grid", grid), ("vocab_size", vocab_size),
                            ("embed_dim", embed_dim), ("hidden_dim", hidden_dim), ("num_heads", num_heads)):
            check_positive_int(value, name)
        self.num_heads = num_heads
        self.position = nn.Parameter(torch.randn(1, grid * grid, feature_channels) * 0.1)
        self.image = nn.Sequential(nn.Flatten(), nn.Linear(feature_channels * grid * grid, hidden_dim), nn.ReLU())
        self.init_h = nn.Linear(hidden_dim, hidden_dim)
        self.init_c = nn.Linear(hidden_dim, hidden_dim)
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, batch_first=True)
        self.query = nn.Linear(hidden_dim, num_heads * feature_channels)
        self.out = nn.Sequential(nn.Linear(hidden_dim + num_heads * feature_channels, hidden_dim), nn.Tanh(),
                                 nn.Linear(hidden_dim, vocab_size))

    def cells(self, features: Tensor) -> Tensor:
        """The grid as ``[B, P, C]`` vectors, with their position embeddings."""
        return features.flatten(2).transpose(1, 2) + self.position  # [B, P, C]

    def attend(self, cells: Tensor, hidden: Tensor) -> tuple[Tensor, Tensor]:
        """Contexts ``[B, L, heads * C]`` and weights ``[B, heads, L, P]`` for LSTM states ``hidden [B, L, H]``."""
        b, length, _ = hidden.shape
        c = cells.shape[-1]
        queries = self.query(hidden).reshape(b, length, self.num_heads, c).transpose(1, 2)  # [B, h, L, C]
        scores = queries @ cells.transpose(1, 2)[:, None] / math.sqrt(c)  # [B, h, L, P]
        weights = scores.softmax(dim=-1)
        context = weights @ cells[:, None]  # [B, h, L, C]
        return context.transpose(1, 2).reshape(b, length, self.num_heads * c), weights

    def init_state(self, features: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(h [B, H], c [B, H], cells [B, P, C])`` before the first word."""
        g = self.image(features)
        return torch.tanh(self.init_h(g)), torch.tanh(self.init_c(g)), self.cells(features)

    def forward(self, features: Tensor, inputs: Tensor, return_attention: bool = False):
        h, c, cells = self.init_state(features)
        hidden, _ = self.lstm(self.embed(inputs), (h[None], c[None]))  # [B, L, H]
        context, weights = self.attend(cells, hidden)
        logits = self.out(torch.cat([hidden, context], dim=2))  # [B, L, V]
        return (logits, weights) if return_attention else logits

    def step(self, tokens: Tensor, state: tuple[Tensor, Tensor, Tensor]):
        """One decoding step: ``(logits [B, V], new state)``."""
        h, c, cells = state
        hidden, (h, c) = self.lstm(self.embed(tokens)[:, None], (h[None], c[None]))  # [B, 1, H]
        context, _ = self.attend(cells, hidden)
        return self.out(torch.cat([hidden, context], dim=2))[:, 0], (h[0], c[0], cells)
