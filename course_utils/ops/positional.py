"""Positional encodings: the Transformer's sinusoids, and Fourier features of coordinates.

Attention treats its input as a *set*: permuting the tokens permutes the outputs and
changes nothing else. Word order and patch positions must therefore be added to the
tokens. Two fixed encodings live here (learned ones are plain ``nn.Parameter`` tables in
the models):

* :func:`sinusoidal_encoding` (Vaswani et al., 2017): position ``p`` becomes
  ``PE[p, 2i] = sin(p / base^(2i / D))`` and ``PE[p, 2i + 1] = cos(p / base^(2i / D))``,
  sine and cosine of one frequency side by side, frequencies falling geometrically
  from 1 to about ``1 / base``.
* :func:`fourier_features` (Tancik et al., 2020): a coordinate ``x`` becomes
  ``[sin(2 pi B x), cos(2 pi B x)]`` for a random matrix ``B``; it lets a small MLP fit
  the high frequencies of an image that it cannot fit from raw ``(x, y)``.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from course_utils.checks import check_nonnegative_int, check_number, check_numel, check_positive_int, check_tensor
from course_utils.references import reference_of

__all__ = ["sinusoidal_encoding", "sinusoidal_encoding_loop", "fourier_matrix", "fourier_features"]

DEFAULT_BASE = 10000.0  # the wavelengths run from 2 pi to 2 pi * base (Vaswani et al.)


def _check_encoding_args(num_positions: int, dim: int, base: float) -> None:
    check_nonnegative_int(num_positions, "num_positions")
    check_positive_int(dim, "dim")
    if dim % 2:
        raise ValueError(f"dim must be even (a sine and a cosine per frequency), got {dim}")
    if isinstance(base, bool) or not isinstance(base, (int, float)) or not base > 1:
        raise ValueError(f"base must be a number > 1, got {base!r}")
    check_numel(num_positions * dim, "num_positions", (num_positions, dim))


def _check_dtype(dtype) -> None:
    if not isinstance(dtype, torch.dtype):
        raise TypeError(f"dtype must be a torch.dtype such as torch.float32, got {type(dtype).__name__} ({dtype!r})")


def _sinusoidal_twin(num_positions: int, dim: int, base: float = DEFAULT_BASE,
                     dtype: torch.dtype = torch.float32) -> Tensor:
    """Twin of the sinusoidal references: unit complex numbers ``exp(i p w)`` from ``torch.polar``."""
    _check_encoding_args(num_positions, dim, base)
    _check_dtype(dtype)
    omega = base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)  # [D/2]
    angles = torch.outer(torch.arange(num_positions, dtype=torch.float64), omega)  # [P, D/2]
    pairs = torch.view_as_real(torch.polar(torch.ones_like(angles), angles))  # [P, D/2, (cos, sin)]
    return pairs.flip(-1).reshape(num_positions, dim).to(dtype)


@reference_of("06_transformers/sinusoidal_encoding", twin=_sinusoidal_twin)
def sinusoidal_encoding_loop(num_positions: int, dim: int, base: float = DEFAULT_BASE,
                             dtype: torch.dtype = torch.float32) -> Tensor:
    """Reference for :func:`sinusoidal_encoding`: one entry at a time, with Python's ``math``.

    Examples:
        >>> sinusoidal_encoding_loop(2, 4)
        tensor([[0.0000, 1.0000, 0.0000, 1.0000],
                [0.8415, 0.5403, 0.0100, 0.9999]])
    """
    _check_encoding_args(num_positions, dim, base)
    _check_dtype(dtype)
    table = torch.zeros(num_positions, dim, dtype=torch.float64)
    for p in range(num_positions):
        for i in range(dim // 2):
            angle = p / base ** (2 * i / dim)
            table[p, 2 * i] = math.sin(angle)
            table[p, 2 * i + 1] = math.cos(angle)
    return table.to(dtype)


@reference_of("06_transformers/sinusoidal_encoding", twin=_sinusoidal_twin)
def sinusoidal_encoding(num_positions: int, dim: int, base: float = DEFAULT_BASE,
                        dtype: torch.dtype = torch.float32) -> Tensor:
    """The Transformer's fixed positional encoding.

    Args:
        num_positions: ``P``, the number of positions ``0 .. P - 1``.
        dim: ``D``, the model dimension (even).
        base: sets the longest wavelength, ``2 pi base`` (10,000 in the paper).
        dtype: of the result; the angles are computed in float64 first, so that large
            positions do not lose digits.

    Returns:
        ``Tensor[P, D]`` with ``PE[p, 2i] = sin(p / base^(2i/D))`` and
        ``PE[p, 2i + 1] = cos(p / base^(2i/D))``.

    Examples:
        >>> pe = sinusoidal_encoding(50, 16)
        >>> pe.shape, bool(pe.abs().max() <= 1)
        (torch.Size([50, 16]), True)
    """
    _check_encoding_args(num_positions, dim, base)
    _check_dtype(dtype)
    positions = torch.arange(num_positions, dtype=torch.float64)[:, None]  # [P, 1]
    frequencies = base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)  # [D/2]: 2i = 0, 2, 4, ...
    angles = positions * frequencies[None, :]  # [P, D/2]
    table = torch.stack([torch.sin(angles), torch.cos(angles)], dim=-1)  # [P, D/2, 2]: sin, cos side by side
    return table.reshape(num_positions, dim).to(dtype)


def fourier_matrix(in_dim: int, num_features: int, scale: float, seed: int = 0) -> Tensor:
    """A random Gaussian frequency matrix ``B`` for :func:`fourier_features`.

    Args:
        in_dim: dimension of the coordinates (2 for ``(x, y)``).
        num_features: number of frequencies ``m``.
        scale: standard deviation of the entries (higher = finer detail, and noisier fits).
        seed: seeds the generator.

    Returns:
        ``Tensor[in_dim, m]`` float32 with N(0, scale^2) entries.

    Examples:
        >>> fourier_matrix(2, 5, 10.0).shape
        torch.Size([2, 5])
    """
    check_positive_int(in_dim, "in_dim")
    check_positive_int(num_features, "num_features")
    check_number(scale, "scale", low=0, low_open=True)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} ({seed!r})")
    check_numel(in_dim * num_features, "num_features", (in_dim, num_features))
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(in_dim, num_features, generator=generator) * scale


def fourier_features(coords: Tensor, frequencies: Tensor) -> Tensor:
    """Map coordinates to ``[sin(2 pi x B), cos(2 pi x B)]``.

    Args:
        coords: ``Tensor[N, in_dim]``, typically in ``[0, 1]``.
        frequencies: ``Tensor[in_dim, m]`` (see :func:`fourier_matrix`).

    Returns:
        ``Tensor[N, 2m]``: the sines of the ``m`` projections, then their cosines.

    Examples:
        >>> fourier_features(torch.zeros(3, 2), torch.ones(2, 4))
        tensor([[0., 0., 0., 0., 1., 1., 1., 1.],
                [0., 0., 0., 0., 1., 1., 1., 1.],
                [0., 0., 0., 0., 1., 1., 1., 1.]])
    """
    check_tensor(coords, "coords", ndim=2, floating=True, finite=True)
    check_tensor(frequencies, "frequencies", ndim=2, floating=True, finite=True)
    if coords.shape[1] != frequencies.shape[0]:
        raise ValueError(f"coords have {coords.shape[1]} dimensions but frequencies expect {frequencies.shape[0]}")
    projected = 2 * math.pi * coords @ frequencies.to(coords)  # [N, m]
    return torch.cat([torch.sin(projected), torch.cos(projected)], dim=1)  # [N, 2m]
