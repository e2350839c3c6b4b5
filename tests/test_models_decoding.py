"""Tests of course_utils.models.decoding on Markov-chain toy models, where the best sequence can be enumerated."""
import itertools
import math

import pytest
import torch

from course_utils.models import decoding as D


def test_softmax_with_temperature():
    scores = torch.tensor([[5.0, 1.0, -2.0], [1000.0, 999.0, 0.0]])
    for t in (0.1, 1.0, 5.0):
        p = D.softmax_with_temperature(scores, t)
        torch.testing.assert_close(p, torch.softmax(scores / t, -1))
        torch.testing.assert_close(D._softmax_temperature_twin(scores, t), p)
        assert not torch.isnan(p).any()
    p = D.softmax_with_temperature(torch.tensor([5.0, 1.0]))
    assert float(p[0] / p[1]) == pytest.approx(math.exp(4), rel=1e-5)
    p = D.softmax_with_temperature(torch.tensor([5.0, 1.0]), 5.0)
    assert float(p[0] / p[1]) == pytest.approx(math.exp(0.8), rel=1e-5)
    assert D.softmax_with_temperature(torch.zeros(0, 3)).shape == (0, 3)
    for bad in (0, -1.0, True):
        with pytest.raises(ValueError):
            D.softmax_with_temperature(scores, bad)


def _chain(vocab=4, seed=0, end=None):
    g = torch.Generator().manual_seed(seed)
    table = torch.log_softmax(torch.randn(vocab, vocab, generator=g, dtype=torch.float64) * 2, dim=-1)
    end = vocab - 1 if end is None else end
    return table, end


def _enumerate(table, start, end, max_length):
    """Every sequence of at most max_length tokens that ends with `end` (or is cut), with its log-probability."""
    vocab = table.shape[0]
    best = []
    for length in range(1, max_length + 1):
        for seq in itertools.product(range(vocab), repeat=length):
            if end in seq[:-1]:
                continue
            if seq[-1] != end and length < max_length:
                continue
            prev, total = start, 0.0
            for tok in seq:
                total += float(table[prev, tok])
                prev = tok
            best.append((list(seq), total))
    return sorted(best, key=lambda x: -x[1])


@pytest.mark.parametrize("seed", range(5))
def test_beam_search_with_a_wide_beam_finds_the_best_sequences(seed):
    table, end = _chain(seed=seed)
    step = lambda tokens, state: (table[tokens], state)
    expected = _enumerate(table, 0, end, 4)
    got = D.beam_search(step, None, 0, end, 4, beam_size=64)
    for (seq, score), (eseq, escore) in zip(got[:3], expected[:3]):
        assert seq == eseq and score == pytest.approx(escore, abs=1e-9)


def test_beam_of_one_is_greedy_and_beam_can_beat_greedy():
    # From the start, token 1 looks best (0.6) but continues badly; token 2 (0.4) ends well.
    probs = torch.tensor([[0.0, 0.6, 0.4, 0.0],
                          [0.0, 0.0, 0.0, 1.0 / 3], [0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0]])
    probs[1, :3] = 2.0 / 9
    table = torch.log(probs)
    step = lambda tokens, state: (table[tokens], state)
    greedy = D.greedy_decode(step, None, 1, 0, 3, 5)
    assert greedy[0].tolist()[:1] == [1]
    best_seq, best_score = D.beam_search(step, None, 0, 3, 5, beam_size=2)[0]
    assert best_seq == [2, 3] and best_score == pytest.approx(math.log(0.4))


def test_greedy_pads_after_end_and_batches():
    table, end = _chain(seed=3)
    step = lambda tokens, state: (table[tokens], state)
    out = D.greedy_decode(step, None, 3, 0, end, 6, pad_token=0)
    assert out.shape[0] == 3 and out.shape[1] <= 6
    for row in out.tolist():
        if end in row:
            assert all(t == 0 for t in row[row.index(end) + 1:])
    assert D.greedy_decode(step, None, 2, 0, end, 0).shape == (2, 0)


def test_sampling_follows_the_distribution_and_is_reproducible():
    probs = torch.tensor([[0.0, 0.7, 0.3], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    table = torch.log(probs)
    step = lambda tokens, state: (table[tokens], state)
    out = D.sample_decode(step, None, 4000, 0, 2, 3, generator=torch.Generator().manual_seed(0))
    assert abs(float((out[:, 0] == 1).float().mean()) - 0.7) < 0.03
    again = D.sample_decode(step, None, 4000, 0, 2, 3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    hot = D.sample_decode(step, None, 4000, 0, 2, 3, temperature=100.0, generator=torch.Generator().manual_seed(0))
    assert abs(float((hot[:, 0] == 1).float().mean()) - 0.5) < 0.04  # a high temperature flattens 0.7/0.3


def test_beam_search_reorders_tensor_states():
    """A state that must follow its beam: the decoder counts the steps of each hypothesis."""
    table, end = _chain(seed=1)

    def step(tokens, state):
        return table[tokens], state + 1

    results = D.beam_search(step, torch.zeros(1, 1), 0, end, 4, beam_size=3)
    assert 1 <= len(results) <= 3
    assert results == sorted(results, key=lambda r: -r[1])
