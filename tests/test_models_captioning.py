"""Tests of course_utils.models.captioning: tokens, caption wordings, encoder and decoders."""
import pytest
import torch

from course_utils.data import ShapesScenes, tokenize_caption
from course_utils.models import captioning as C
from course_utils.models.decoding import greedy_decode


@pytest.fixture(scope="module")
def captions():
    scenes = ShapesScenes(300, image_size=32, min_objects=0, max_objects=5, seed=3)
    return [scenes[i][1]["caption"] for i in range(len(scenes))]


def test_encode_decode_round_trip(captions):
    ids = C.encode_captions(captions)
    assert ids.dtype == torch.long and bool((ids[:, 0] == C.START).all())
    for row, caption in zip(ids, captions):
        assert C.decode_tokens(row) == tokenize_caption(caption)
    assert C.encode_captions(["a red star."], length=8).shape == (1, 8)
    with pytest.raises(ValueError):
        C.encode_captions(["a purple star."])
    with pytest.raises(ValueError):
        C.encode_captions(["a red star."], length=3)


def test_canonical_and_equivalent_wordings(captions):
    for caption in captions:
        wordings = C.equivalent_captions(caption)
        assert caption in wordings
        canonical = C.canonical_caption(caption)
        assert canonical in wordings
        assert all(C.canonical_caption(w) == canonical for w in wordings), caption
        assert all(sorted(tokenize_caption(w)) == sorted(tokenize_caption(caption)) or " above " in w or
                   " below " in w or " left " in w or " right " in w for w in wordings)
    assert C.canonical_caption("a red circle to the right of a blue star.") == "a blue star to the left of a red circle."
    assert C.equivalent_captions("an empty scene.") == ["an empty scene."]


def test_encoder_grid_and_object_namer():
    encoder = C.ShapesEncoder()
    assert encoder(torch.zeros(2, 3, 64, 64)).shape == (2, 64, 16, 16)
    scenes = ShapesScenes(4, image_size=32, min_objects=1, max_objects=3, seed=0)
    masks = C.grid_masks([scenes[i][1]["masks"] for i in range(4)], 8, 3)
    assert masks.shape == (4, 3, 8, 8) and float(masks.max()) <= 1
    shapes, colours = C.ObjectNamer(encoder)(torch.stack([scenes[i][0] for i in range(4)]), masks)
    assert shapes.shape == (4, 3, 5) and colours.shape == (4, 3, 8)
    with pytest.raises(ValueError):
        C.grid_masks([torch.zeros(4, 32, 32, dtype=torch.bool)], 8, 3)


@pytest.mark.parametrize("cls", [C.CaptionDecoder, C.AttentionCaptionDecoder])
def test_step_by_step_equals_teacher_forcing(cls):
    torch.manual_seed(0)
    decoder = cls(16, 4, len(C.CAPTION_TOKENS), embed_dim=8, hidden_dim=16).double()
    features = torch.randn(3, 16, 4, 4, dtype=torch.float64)
    tokens = C.encode_captions(["a red star.", "two blue rings.", "a red circle above a blue star."])
    logits = decoder(features, tokens[:, :-1])
    state = decoder.init_state(features)
    for t in range(tokens.shape[1] - 1):
        step_logits, state = decoder.step(tokens[:, t], state)
        torch.testing.assert_close(step_logits, logits[:, t])
    out = greedy_decode(decoder.step, decoder.init_state(features), 3, C.START, C.END, 6, pad_token=C.PAD)
    assert out.shape[0] == 3


@pytest.mark.parametrize("cls", [C.CaptionDecoder, C.AttentionCaptionDecoder])
def test_decoders_train(cls):
    torch.manual_seed(0)
    decoder = cls(8, 2, len(C.CAPTION_TOKENS), embed_dim=8, hidden_dim=16)
    features = torch.randn(2, 8, 2, 2)
    tokens = C.encode_captions(["a red star.", "two blue rings."])
    optimizer = torch.optim.Adam(decoder.parameters(), 0.01)
    first = None
    for _ in range(200):
        loss = C.caption_loss(decoder(features, tokens[:, :-1]), tokens[:, 1:])
        first = loss.item() if first is None else first
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.05 * first
    assert all(p.grad is not None for p in decoder.parameters())


def test_attention_weights_sum_to_one():
    decoder = C.AttentionCaptionDecoder(8, 3, len(C.CAPTION_TOKENS))
    _, weights = decoder(torch.randn(2, 8, 3, 3), torch.ones(2, 4, dtype=torch.long), return_attention=True)
    assert weights.shape == (2, 2, 4, 9)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 2, 4))
