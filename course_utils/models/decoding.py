"""Turning a next-token model into a sequence: greedy decoding, sampling with a temperature, beam search.

Every decoder drives a *step function*::

    logits, state = step(tokens, state)

``tokens`` is ``Tensor[B]`` int64, the last token of each sequence; ``logits`` is
``Tensor[B, V]`` (unnormalized scores of the next token); ``state`` is whatever the model
carries between steps (an LSTM's ``(h, c)``, the image features), as a tensor or a
tuple/list of tensors whose first dimension is the batch (beam search reorders it).

Decoding starts from ``start_token`` and stops a sequence at ``end_token`` (which is kept
in the output) or after ``max_length`` generated tokens; finished sequences are padded
with ``pad_token``.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import torch
from torch import Tensor

from course_utils.checks import check_nonnegative_int, check_positive_int, check_tensor
from course_utils.references import reference_of

__all__ = ["softmax_with_temperature", "greedy_decode", "sample_decode", "beam_search", "StepFn"]

StepFn = Callable[[Tensor, Any], "tuple[Tensor, Any]"]


def _check_temperature(temperature: float) -> None:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")


def _softmax_temperature_twin(scores: Tensor, temperature: float = 1.0) -> Tensor:
    """Twin of :func:`softmax_with_temperature`: ``torch.softmax`` of the scaled scores."""
    check_tensor(scores, "scores", floating=True)
    _check_temperature(temperature)
    return torch.softmax(scores / temperature, dim=-1)


@reference_of("06_transformers/softmax_with_temperature", twin=_softmax_temperature_twin)
def softmax_with_temperature(scores: Tensor, temperature: float = 1.0) -> Tensor:
    """Probabilities ``exp(s_i / T) / sum_j exp(s_j / T)`` along the last dimension.

    ``T > 1`` flattens the distribution (more varied samples), ``T < 1`` sharpens it; as
    ``T -> 0`` it becomes greedy decoding. The maximum is subtracted before ``exp`` so
    that large scores do not overflow.

    Args:
        scores: ``Tensor[..., V]`` floating.
        temperature: ``T > 0`` (else ``ValueError``).

    Returns:
        ``Tensor[..., V]`` of the same dtype, each row summing to 1.

    Examples:
        >>> p = softmax_with_temperature(torch.tensor([5.0, 1.0]), 1.0)
        >>> round(float(p[0] / p[1]), 1)  # e^4
        54.6
        >>> p = softmax_with_temperature(torch.tensor([5.0, 1.0]), 5.0)
        >>> round(float(p[0] / p[1]), 2)  # e^0.8
        2.23
    """
    check_tensor(scores, "scores", floating=True)
    _check_temperature(temperature)
    scaled = scores / temperature
    exp = torch.exp(scaled - scaled.amax(dim=-1, keepdim=True))  # the largest becomes exp(0) = 1
    return exp / exp.sum(dim=-1, keepdim=True)


def _check_tokens(start_token: int, end_token: int, pad_token: int, max_length: int) -> None:
    for name, value in (("start_token", start_token), ("end_token", end_token), ("pad_token", pad_token)):
        check_nonnegative_int(value, name)
    check_nonnegative_int(max_length, "max_length")


def _decode(step: StepFn, state: Any, batch: int, choose: Callable[[Tensor], Tensor], start_token: int,
            end_token: int, pad_token: int, max_length: int, device) -> Tensor:
    tokens = torch.full((batch,), start_token, dtype=torch.long, device=device)
    done = torch.zeros(batch, dtype=torch.bool, device=device)
    out = []
    for _ in range(max_length):
        logits, state = step(tokens, state)  # [B, V]
        tokens = torch.where(done, torch.full_like(tokens, pad_token), choose(logits))
        out.append(tokens)
        done |= tokens == end_token
        if bool(done.all()):
            break
    if not out:
        return torch.zeros(batch, 0, dtype=torch.long, device=device)
    return torch.stack(out, dim=1)  # [B, L]


@torch.no_grad()
def greedy_decode(step: StepFn, state: Any, batch: int, start_token: int, end_token: int, max_length: int,
                  pad_token: int = 0, device: torch.device | str | None = None) -> Tensor:
    """Always take the most likely next token.

    Returns:
        ``Tensor[B, L]`` int64 with ``L <= max_length`` generated tokens (the start token is
        not included), ``end_token`` kept, ``pad_token`` after it.

    Examples:
        >>> table = torch.log(torch.tensor([[0.0, 0.6, 0.4], [0.0, 0.1, 0.9], [0.0, 0.0, 1.0]]))
        >>> step = lambda tokens, state: (table[tokens], state)  # a Markov chain; token 2 ends
        >>> greedy_decode(step, None, batch=1, start_token=0, end_token=2, max_length=5)
        tensor([[1, 2]])
    """
    _check_tokens(start_token, end_token, pad_token, max_length)
    check_positive_int(batch, "batch")
    return _decode(step, state, batch, lambda logits: logits.argmax(dim=-1), start_token, end_token,
                   pad_token, max_length, device)


@torch.no_grad()
def sample_decode(step: StepFn, state: Any, batch: int, start_token: int, end_token: int, max_length: int,
                  temperature: float = 1.0, pad_token: int = 0, generator: torch.Generator | None = None,
                  device: torch.device | str | None = None) -> Tensor:
    """Draw every next token from ``softmax(logits / temperature)``.

    Same output as :func:`greedy_decode`; ``generator`` makes the draws reproducible.

    Examples:
        >>> table = torch.log(torch.tensor([[0.0, 0.6, 0.4], [0.0, 0.1, 0.9], [0.0, 0.0, 1.0]]))
        >>> step = lambda tokens, state: (table[tokens], state)
        >>> out = sample_decode(step, None, 1000, 0, 2, 5, generator=torch.Generator().manual_seed(0))
        >>> 0.55 < float((out[:, 0] == 1).float().mean()) < 0.65  # first token 1 with probability 0.6
        True
    """
    _check_tokens(start_token, end_token, pad_token, max_length)
    check_positive_int(batch, "batch")
    _check_temperature(temperature)

    def choose(logits: Tensor) -> Tensor:
        probs = softmax_with_temperature(logits.double(), temperature)
        gen = generator if generator is None or probs.device.type == "cpu" else None
        return torch.multinomial(probs.cpu() if gen is not None else probs, 1, generator=gen).flatten().to(logits.device)

    return _decode(step, state, batch, choose, start_token, end_token, pad_token, max_length, device)


def _state_device(state: Any) -> torch.device:
    """The device of the first tensor in a decoding state (CPU if it holds none)."""
    if isinstance(state, Tensor):
        return state.device
    if isinstance(state, (tuple, list)):
        for s in state:
            if isinstance(s, (Tensor, tuple, list)):
                found = _state_device(s)
                if found.type != "cpu":
                    return found
    return torch.device("cpu")


def _reorder(state: Any, index: Tensor) -> Any:
    """Select the batch rows ``index`` of every tensor in a state (tensor, tuple, list or None)."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.index_select(0, index.to(state.device))
    if isinstance(state, (tuple, list)):
        return type(state)(_reorder(s, index) for s in state)
    raise TypeError(f"a decoding state must be a tensor, a tuple/list of tensors or None, got {type(state).__name__}")


@torch.no_grad()
def beam_search(step: StepFn, state: Any, start_token: int, end_token: int, max_length: int,
                beam_size: int = 3, length_penalty: float = 0.0) -> list[tuple[list[int], float]]:
    """Keep the ``beam_size`` most likely prefixes at every step (one input sequence).

    ``state`` describes *one* example (batch dimension 1); it is repeated for the beams.
    A hypothesis that emits ``end_token`` is finished; the search stops when the best
    finished hypothesis beats every live one (log-probabilities only fall as a sequence
    grows, so no live prefix can overtake it) or after ``max_length`` tokens. Scores are
    total log-probabilities divided by ``length ** length_penalty`` (0: no normalization).

    Returns:
        up to ``beam_size`` ``(tokens, score)`` pairs, best first; ``tokens`` excludes the
        start token and ends with ``end_token`` unless ``max_length`` cut it.

    Examples:
        >>> table = torch.log(torch.tensor([[0.0, 0.6, 0.4], [0.0, 0.1, 0.9], [0.0, 0.0, 1.0]]))
        >>> step = lambda tokens, state: (table[tokens], state)
        >>> [(t, round(s, 3)) for t, s in beam_search(step, None, 0, 2, 5, beam_size=2)]
        [([1, 2], -0.616), ([2], -0.916)]
    """
    _check_tokens(start_token, end_token, 0, max_length)
    check_positive_int(beam_size, "beam_size")

    def normalized(score: float, length: int) -> float:
        return score / (max(length, 1) ** length_penalty) if length_penalty else score

    prefixes: list[list[int]] = [[]]  # the live hypotheses
    scores = torch.zeros(1, dtype=torch.float64)  # [K] total log-probability of each live prefix
    tokens = torch.tensor([start_token])
    finished: list[tuple[list[int], float]] = []
    for _ in range(max_length):
        logits, state = step(tokens.to(_state_device(state)), state)  # [K, V]
        logp = torch.log_softmax(logits.double(), dim=-1).cpu()  # [K, V]
        candidates = (scores[:, None] + logp).flatten()  # [K * V]
        vocab = logp.shape[1]
        top = torch.topk(candidates, min(beam_size * 2, len(candidates)))  # room for ends and live ones
        rows, next_tokens, next_scores = [], [], []
        for value, flat in zip(top.values.tolist(), top.indices.tolist()):
            if value == float("-inf"):
                break
            row, token = divmod(flat, vocab)
            if token == end_token:
                finished.append((prefixes[row] + [token], value))
            elif len(rows) < beam_size:
                rows.append(row)
                next_tokens.append(token)
                next_scores.append(value)
        finished.sort(key=lambda item: normalized(item[1], len(item[0])), reverse=True)
        finished = finished[:beam_size]
        prefixes = [prefixes[r] + [t] for r, t in zip(rows, next_tokens)]
        scores = torch.tensor(next_scores, dtype=torch.float64)
        if not rows:
            break
        if len(finished) >= beam_size and length_penalty == 0 and finished[-1][1] >= max(next_scores):
            prefixes = []  # no live prefix can beat the finished ones any more
            break
        tokens = torch.tensor(next_tokens)
        state = _reorder(state, torch.tensor(rows))
    results = finished + list(zip(prefixes, scores.tolist()))
    results.sort(key=lambda item: normalized(item[1], len(item[0])), reverse=True)
    return [(tokens_, normalized(score, len(tokens_))) for tokens_, score in results[:beam_size]]
