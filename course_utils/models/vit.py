"""The Vision Transformer (Dosovitskiy et al., 2021), small enough to train on digits.

An image ``Tensor[B, C, H, W]`` becomes tokens in three steps:

1. **Patch embedding**: cut it into ``p x p`` patches and project each linearly to ``D``
   numbers. A ``Conv2d(C, D, kernel_size=p, stride=p)`` does exactly that (each output
   position sees one patch, with the same weights for all patches), giving
   ``[B, D, H/p, W/p]``, flattened to ``N = HW / p^2`` tokens ``[B, N, D]``.
2. A learned **class token** is put in front: ``[B, N + 1, D]``. The classifier reads its
   final state, which attention can fill with information from every patch.
3. Learned **position embeddings** ``[1, N + 1, D]`` are added, since attention alone
   does not know where a patch came from.

Then ``depth`` Transformer blocks, a final LayerNorm, and a linear head on the class
token. :func:`vit_embedding_size` counts the tokens and the embedding's parameters;
:func:`attention_maps` and :func:`attention_rollout` show where the class token looks.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

from course_utils.checks import check_positive_int, check_tensor
from course_utils.models.transformer import TransformerBlock
from course_utils.ops.patches import num_patches
from course_utils.references import not_an_answer, reference_of

__all__ = ["PatchEmbedding", "ViT", "vit_embedding_size", "attention_maps", "attention_rollout", "VIT_CONFIGS"]

#: Published ViT configurations (Dosovitskiy et al., 2021, Table 1): dim, depth, heads, MLP width.
VIT_CONFIGS = {
    "ViT-Ti/16": dict(dim=192, depth=12, num_heads=3, mlp_ratio=4.0, patch_size=16),  # DeiT-Ti
    "ViT-S/16": dict(dim=384, depth=12, num_heads=6, mlp_ratio=4.0, patch_size=16),  # DeiT-S
    "ViT-B/16": dict(dim=768, depth=12, num_heads=12, mlp_ratio=4.0, patch_size=16),
    "ViT-L/16": dict(dim=1024, depth=24, num_heads=16, mlp_ratio=4.0, patch_size=16),
    "ViT-H/14": dict(dim=1280, depth=32, num_heads=16, mlp_ratio=4.0, patch_size=14),
}
POSITION_INIT_STD = 0.02  # truncated-normal init of the class token and positions (timm, DeiT)
_BUILD_WHY = ("building the model and counting its parameters is a check of the count, not the count derived "
              "by hand that the exercise asks for")


class PatchEmbedding(nn.Module):
    """Cut an image into patches and project each to ``dim`` numbers: a strided convolution.

    Args:
        image_size: side of the square input.
        patch_size: ``p``, dividing ``image_size``.
        in_channels: ``C``.
        dim: ``D``.

    Shape: ``Tensor[B, C, S, S] -> Tensor[B, N, D]`` with ``N = (S / p)^2``.

    Examples:
        >>> PatchEmbedding(32, 8, 3, 64)(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 16, 64])
    """

    @not_an_answer("06_transformers/vit_embedding_size", why=_BUILD_WHY)
    def __init__(self, image_size: int, patch_size: int, in_channels: int, dim: int) -> None:
        super().__init__()
        check_positive_int(in_channels, "in_channels")
        check_positive_int(dim, "dim")
        self.num_patches = num_patches(image_size, patch_size)
        self.image_size = image_size
        self.proj = nn.Conv2d(in_channels, dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: Tensor) -> Tensor:
        check_tensor(x, "x", ndim=4)
        if tuple(x.shape[-2:]) != (self.image_size, self.image_size):
            raise ValueError(f"input size ({x.shape[-2]} x {x.shape[-1]}) does not match the model "
                             f"({self.image_size} x {self.image_size})")
        return self.proj(x).flatten(2).transpose(1, 2)  # [B, D, S/p, S/p] -> [B, N, D]


class ViT(nn.Module):
    """A Vision Transformer classifier.

    Args:
        image_size, patch_size, in_channels: the input and its patches.
        num_classes: outputs of the head.
        dim, depth, num_heads, mlp_ratio: the Transformer (see :data:`VIT_CONFIGS`).
        pre_norm: passed to every block.
        block: ``block(dim, num_heads, mlp_ratio=..., pre_norm=...)`` builds one block
            (default :class:`~course_utils.models.transformer.TransformerBlock`; the
            chapter passes the student's own).

    Shape: ``Tensor[B, C, S, S] -> Tensor[B, num_classes]``.

    Examples:
        >>> vit = ViT(image_size=16, patch_size=4, in_channels=1, num_classes=10, dim=32, depth=2, num_heads=4)
        >>> vit(torch.zeros(2, 1, 16, 16)).shape
        torch.Size([2, 10])
    """

    @not_an_answer("06_transformers/vit_embedding_size", why=_BUILD_WHY)
    def __init__(self, image_size: int = 224, patch_size: int = 16, in_channels: int = 3, num_classes: int = 1000,
                 dim: int = 768, depth: int = 12, num_heads: int = 12, mlp_ratio: float = 4.0,
                 pre_norm: bool = True, block: Callable[..., nn.Module] = TransformerBlock) -> None:
        super().__init__()
        check_positive_int(num_classes, "num_classes")
        check_positive_int(depth, "depth")
        self.patch_embed = PatchEmbedding(image_size, patch_size, in_channels, dim)
        tokens = self.patch_embed.num_patches + 1
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, tokens, dim))
        if not self.cls_token.is_meta:
            nn.init.trunc_normal_(self.cls_token, std=POSITION_INIT_STD)
            nn.init.trunc_normal_(self.pos_embed, std=POSITION_INIT_STD)
        self.blocks = nn.ModuleList(block(dim, num_heads, mlp_ratio=mlp_ratio, pre_norm=pre_norm)
                                    for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def embed(self, x: Tensor) -> Tensor:
        """Patch tokens, class token and positions: ``[B, N + 1, D]``."""
        tokens = self.patch_embed(x)  # [B, N, D]
        cls = self.cls_token.expand(len(tokens), -1, -1)  # [B, 1, D]
        return torch.cat([cls, tokens], dim=1) + self.pos_embed  # [B, N + 1, D]

    def forward(self, x: Tensor) -> Tensor:
        z = self.embed(x)
        for block in self.blocks:
            z = block(z)
        return self.head(self.norm(z)[:, 0])  # the class token's final state -> logits


def _embedding_size_twin(image_size: int, patch_size: int, in_channels: int, dim: int) -> tuple[int, int]:
    """Twin of :func:`vit_embedding_size`: build the embedding on the meta device and count."""
    with torch.device("meta"):
        model = ViT(image_size, patch_size, in_channels, num_classes=1, dim=dim, depth=1, num_heads=1)
    parts = (model.patch_embed, model.cls_token, model.pos_embed)
    count = sum(p.numel() for p in parts[0].parameters()) + parts[1].numel() + parts[2].numel()
    return model.patch_embed.num_patches, count


@reference_of("06_transformers/vit_embedding_size", twin=_embedding_size_twin)
def vit_embedding_size(image_size: int, patch_size: int, in_channels: int, dim: int) -> tuple[int, int]:
    """Patches and parameters of a ViT's input embedding.

    Args:
        image_size: side ``S`` of the square input.
        patch_size: ``p``, dividing ``S`` (else ``ValueError``).
        in_channels: ``C``.
        dim: ``D``.

    Returns:
        ``(N, params)``: ``N = (S / p)^2`` patches, and the parameters of the patch
        projection (``C p^2 D`` weights and ``D`` biases), the class token (``D``) and the
        position embeddings (``(N + 1) D``).

    Examples:
        >>> vit_embedding_size(224, 16, 3, 768)  # ViT-B/16
        (196, 742656)
    """
    n = num_patches(image_size, patch_size)
    check_positive_int(in_channels, "in_channels")
    check_positive_int(dim, "dim")
    projection = in_channels * patch_size * patch_size * dim + dim
    return n, projection + dim + (n + 1) * dim


@torch.no_grad()
def attention_maps(model: ViT, images: Tensor) -> list[Tensor]:
    """Attention weights of every block of a pre-norm ViT.

    Works with any block that has the attributes ``norm1``, ``qkv``, ``num_heads`` and
    ``pre_norm`` of :class:`~course_utils.models.transformer.TransformerBlock`; the
    weights are recomputed from them, so the block itself need not return them.

    Returns:
        one ``Tensor[B, h, N + 1, N + 1]`` per block (row = query token, token 0 = class token).

    Examples:
        >>> vit = ViT(16, 4, 1, 10, dim=32, depth=2, num_heads=4).eval()
        >>> [m.shape for m in attention_maps(vit, torch.zeros(1, 1, 16, 16))]
        [torch.Size([1, 4, 17, 17]), torch.Size([1, 4, 17, 17])]
    """
    z = model.embed(images)
    maps = []
    for block in model.blocks:
        if not getattr(block, "pre_norm", True):
            raise ValueError("attention_maps needs pre-norm blocks (pre_norm=True)")
        q, k, _ = block.qkv(block.norm1(z)).chunk(3, dim=-1)  # [B, T, D] each
        b, t, d = q.shape
        h = block.num_heads
        q = q.reshape(b, t, h, d // h).transpose(1, 2)  # [B, h, T, D/h]
        k = k.reshape(b, t, h, d // h).transpose(1, 2)
        maps.append(torch.softmax(q @ k.transpose(-2, -1) / (d // h) ** 0.5, dim=-1))  # [B, h, T, T]
        z = block(z)
    return maps


def attention_rollout(maps: list[Tensor], residual: float = 0.5) -> Tensor:
    """Attention rollout (Abnar & Zuidema, 2020): how much each token feeds each output token.

    Each block's head-averaged attention is mixed with the identity (the residual path),
    ``A' = residual * I + (1 - residual) * A``, rows renormalized, and the blocks'
    matrices are multiplied from the first to the last.

    Args:
        maps: ``[B, h, T, T]`` per block, as from :func:`attention_maps`.
        residual: weight of the skip connection.

    Returns:
        ``Tensor[B, T, T]``; row 0 says how much each input token contributes to the class token.

    Examples:
        >>> a = torch.full((1, 1, 2, 2), 0.5)
        >>> attention_rollout([a, a])[0]
        tensor([[0.6250, 0.3750],
                [0.3750, 0.6250]])
    """
    if not maps:
        raise ValueError("maps must hold at least one block's attention")
    if not 0 <= residual <= 1:
        raise ValueError(f"residual must be in [0, 1], got {residual}")
    t = maps[0].shape[-1]
    eye = torch.eye(t, dtype=maps[0].dtype, device=maps[0].device)
    result = None
    for a in maps:
        mixed = residual * eye + (1 - residual) * a.mean(dim=1)  # [B, T, T]
        mixed = mixed / mixed.sum(dim=-1, keepdim=True)
        result = mixed if result is None else mixed @ result
    return result
