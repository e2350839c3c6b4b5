"""course_utils.classic.hog: HOG features, sliding windows and the HOG + linear SVM detector."""
import pytest
import torch
from skimage.feature import hog

from course_utils.classic.hog import PATCH, HogSvmDetector, hog_features, sliding_windows


def test_hog_features_match_skimage_and_shapes():
    patches = torch.rand(3, 3, PATCH, PATCH, generator=torch.Generator().manual_seed(0))
    feats = hog_features(patches)
    assert feats.shape == (3, 9 * 4 * 9) and feats.dtype == torch.float32
    expected = hog(patches[1].double().mean(dim=0).numpy(), orientations=9, pixels_per_cell=(4, 4),
                   cells_per_block=(2, 2), block_norm="L2-Hys")
    torch.testing.assert_close(feats[1], torch.tensor(expected, dtype=torch.float32))
    assert hog_features(torch.zeros(0, 3, PATCH, PATCH)).shape == (0, 9 * 4 * 9)
    with pytest.raises(ValueError):
        hog_features(torch.zeros(2, 3, 8, 8))


def test_sliding_windows_count_and_bounds():
    w = sliding_windows((64, 48), (16, 32), 8)
    assert len(w) == 7 * 5 + 5 * 3
    assert (w[:, 2] <= 48).all() and (w[:, 3] <= 64).all()
    assert len(sliding_windows((8, 8), (16,), 4)) == 0


def test_detector_finds_a_bright_square_and_refuses_predict_before_fit():
    def scene(x, y):
        img = torch.full((3, 48, 48), 0.1)
        img[:, y:y + 16, x:x + 16] = 0.9
        return img, {"boxes": torch.tensor([[float(x), float(y), x + 16.0, y + 16.0]]), "labels": torch.tensor([1])}

    train = [scene(x, y) for x, y in ((4, 4), (24, 8), (8, 28), (28, 28), (16, 16), (0, 20))]
    det = HogSvmDetector(sizes=(16,), stride=4, C=1.0)
    with pytest.raises(RuntimeError):
        det.predict([train[0][0]])
    det.fit([i for i, _ in train], [t for _, t in train])
    img, target = scene(20, 12)
    out = det.predict([img])[0]
    assert len(out["boxes"]) >= 1 and set(out["labels"].tolist()) <= {1}
    best = out["boxes"][out["scores"].argmax()]
    assert torch.allclose(best, target["boxes"][0], atol=4)
    with pytest.raises(ValueError):
        det.fit([img], [])
