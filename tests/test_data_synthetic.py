"""Tests for the synthetic datasets: shapes scenes (detection, segmentation, captions) and
articulated figures (pose keypoints and heatmaps)."""
import matplotlib

matplotlib.use("Agg")

import re
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader
from torchvision.ops import masks_to_boxes

from course_utils.data import shapes as shp
from course_utils.data.figures import (
    FLIP_PAIRS,
    KEYPOINT_NAMES,
    SKELETON,
    ArticulatedFigures,
    heatmaps_to_keypoints,
    hflip_keypoints,
    render_heatmaps,
)
from course_utils.data.shapes import (
    CAPTION_VOCAB,
    COLOR_NAMES,
    SHAPE_CLASSES,
    ShapesScenes,
    detection_collate,
    tokenize_caption,
)

N_SCENES = 500
N_FIGURES = 300


@pytest.fixture(scope="module")
def scenes():
    ds = ShapesScenes(N_SCENES, image_size=64, max_objects=4, seed=0)
    return [ds[i] for i in range(len(ds))]


@pytest.fixture(scope="module")
def figures():
    ds = ArticulatedFigures(N_FIGURES, image_size=64, seed=0)
    return [ds[i] for i in range(len(ds))]


def _equal_items(a, b) -> bool:
    if not torch.equal(a[0], b[0]):
        return False
    return all(
        (a[1][k] == b[1][k]) if isinstance(a[1][k], str) else torch.equal(a[1][k], b[1][k]) for k in a[1]
    )


# --------------------------------------------------------------------------- shapes: basics


def test_shapes_item_types_and_shapes(scenes):
    for image, target in scenes[:50]:
        assert image.shape == (3, 64, 64) and image.dtype == torch.float32
        assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0
        assert set(target) == {"boxes", "labels", "masks", "semantic", "caption"}
        n = target["labels"].shape[0]
        assert target["boxes"].shape == (n, 4) and target["boxes"].dtype == torch.float32
        assert target["labels"].dtype == torch.int64
        assert target["masks"].shape == (n, 64, 64) and target["masks"].dtype == torch.bool
        assert target["semantic"].shape == (64, 64) and target["semantic"].dtype == torch.int64
        assert isinstance(target["caption"], str) and target["caption"].endswith(".")
        if n:
            assert 1 <= int(target["labels"].min()) and int(target["labels"].max()) < len(SHAPE_CLASSES)


def test_shapes_deterministic_and_seed_dependent():
    a, b = ShapesScenes(20, seed=3), ShapesScenes(20, seed=3)
    for i in (0, 7, 19, -1):
        assert _equal_items(a[i], b[i])
        assert _equal_items(a[i], a[i])  # random access, any order
    assert _equal_items(a[-1], a[19])
    c = ShapesScenes(20, seed=4)
    assert not all(torch.equal(a[i][0], c[i][0]) for i in range(5))
    assert not torch.equal(a[0][0], a[1][0])  # items differ from each other
    cached = ShapesScenes(20, seed=3, cache=True)
    assert _equal_items(cached[5], a[5]) and cached[5] is cached[5]


@pytest.mark.parametrize("background", ["noise", "texture", "plain"])
@pytest.mark.parametrize("image_size", [32, 96])
def test_shapes_backgrounds_and_sizes(background, image_size):
    ds = ShapesScenes(6, image_size=image_size, background=background, min_objects=1, seed=1)
    for image, target in ds:
        assert image.shape == (3, image_size, image_size)
        assert target["masks"].shape[1:] == (image_size, image_size)
        assert len(target["labels"]) >= 1


def test_shapes_empty_scene_and_empty_dataset():
    image, target = ShapesScenes(3, max_objects=0)[1]
    assert target["boxes"].shape == (0, 4) and target["boxes"].dtype == torch.float32
    assert target["labels"].shape == (0,) and target["labels"].dtype == torch.int64
    assert target["masks"].shape == (0, 64, 64) and target["masks"].dtype == torch.bool
    assert int(target["semantic"].max()) == 0
    assert target["caption"] == "an empty scene."
    empty = ShapesScenes(0)
    assert len(empty) == 0
    with pytest.raises(IndexError, match="index 0 is out of range for ShapesScenes of length 0"):
        empty[0]


# --------------------------------------------------------------------------- shapes: geometry


def test_boxes_inside_image_and_tight_around_masks(scenes):
    for _, target in scenes:
        boxes, masks = target["boxes"], target["masks"]
        if len(boxes) == 0:
            continue
        assert masks.flatten(1).any(dim=1).all(), "every instance has visible pixels"
        # torchvision's masks_to_boxes gives inclusive max coordinates; ours are pixel edges (+1).
        expected = masks_to_boxes(masks) + torch.tensor([0.0, 0.0, 1.0, 1.0])
        torch.testing.assert_close(boxes, expected, rtol=0, atol=0)
        assert (boxes[:, :2] >= 0).all() and (boxes[:, 2:] <= 64).all()
        assert (boxes[:, 2:] > boxes[:, :2]).all()


def test_semantic_consistent_with_instance_masks(scenes):
    for _, target in scenes:
        masks, labels, semantic = target["masks"], target["labels"], target["semantic"]
        assert (masks.sum(dim=0) <= 1).all(), "visible masks must be disjoint"
        expected = torch.zeros_like(semantic)
        for mask, label in zip(masks, labels):
            expected[mask] = label
        assert torch.equal(semantic, expected)
        assert torch.equal(semantic > 0, masks.any(dim=0))
        assert (masks.flatten(1).sum(dim=1) >= shp.MIN_VISIBLE_PIXELS).all()


@pytest.mark.parametrize("min_visible", [0.3, 0.8])
def test_visible_fraction_respected_under_occlusion(min_visible):
    # _compose also returns each object's full (unoccluded) mask: the visible part must keep
    # at least min_visible of it, and the visible part is the full mask minus later objects.
    ds = ShapesScenes(60, seed=5, min_objects=3, min_visible=min_visible)
    occluded = 0
    for i in range(len(ds)):
        scene = ds._compose(i)
        for k, (vis, full) in enumerate(zip(scene.visible, scene.full)):
            later = np.zeros_like(full)
            for other in scene.full[k + 1:]:
                later |= other
            np.testing.assert_array_equal(vis, full & ~later)
            assert vis.sum() >= max(min_visible * full.sum(), shp.MIN_VISIBLE_PIXELS)
            occluded += int(vis.sum() < full.sum())
    assert occluded > 0  # occlusion does happen, it is only limited


def test_no_occlusion_means_objects_never_touch():
    ds = ShapesScenes(60, seed=2, min_objects=2, occlusion=False)
    for _, target in ds:
        masks = target["masks"].float()[:, None]  # [N, 1, H, W]
        grown = torch.nn.functional.max_pool2d(masks, 3, stride=1, padding=1)[:, 0] > 0  # 1-pixel dilation
        for i in range(len(masks)):
            for j in range(len(masks)):
                if i != j:
                    assert not (grown[i] & target["masks"][j]).any()


def test_classes_roughly_balanced(scenes):
    labels = torch.cat([t["labels"] for _, t in scenes])
    share = torch.bincount(labels, minlength=len(SHAPE_CLASSES))[1:].double() / len(labels)
    assert ((share >= 0.12) & (share <= 0.28)).all(), f"class shares {share.tolist()}"


def test_object_counts_cover_the_range(scenes):
    counts = Counter(len(t["labels"]) for _, t in scenes)
    assert set(counts) == set(range(5)), counts
    ds = ShapesScenes(40, min_objects=2, max_objects=3, seed=1)
    assert {len(t["labels"]) for _, t in ds} == {2, 3}


# --------------------------------------------------------------------------- shapes: captions


def _pixel_colour_names(image, masks):
    """Name of the palette colour nearest to the mean colour of each mask (an independent read-out)."""
    palette = shp._PALETTE_RGB  # [P, 3]
    names = []
    for mask in masks:
        mean = image[:, mask].mean(dim=1).numpy()  # [3]
        names.append(COLOR_NAMES[int(np.argmin(np.linalg.norm(palette - mean, axis=1)))])
    return names


def _parse_caption(caption):
    """List of (colour, shape) per object mentioned, expanding counts, plus the relation if any."""
    words = {w: i for i, w in enumerate(shp.NUMBER_WORDS)}
    plural_to_singular = {p: s for s, p in shp._PLURALS.items()}
    objects = []
    for count, colour, shape in re.findall(r"\b(an?|two|three|four|five|six|seven|eight|nine|ten) (\w+) (\w+)", caption):
        n = 1 if count in ("a", "an") else words[count]
        objects += [(colour, plural_to_singular.get(shape, shape))] * n
    relation = next((r for r in shp._RELATIONS if f" {r} " in caption), None)
    return objects, relation


def test_captions_describe_the_scene(scenes):
    seen_sizes = set()
    for image, target in scenes[:200]:
        caption, labels = target["caption"], target["labels"]
        n = len(labels)
        seen_sizes.add(min(n, 3))
        if n == 0:
            assert caption == "an empty scene."
            continue
        objects, relation = _parse_caption(caption)
        colours = _pixel_colour_names(image, target["masks"])
        expected = [(c, SHAPE_CLASSES[int(lab)]) for c, lab in zip(colours, labels)]
        assert Counter(objects) == Counter(expected), f"{caption!r} vs {expected}"
        if n == 2:
            centres = (target["boxes"][:, :2] + target["boxes"][:, 2:]) / 2
            dx, dy = (centres[0] - centres[1]).tolist()
            if abs(dy) >= abs(dx):
                assert relation == ("above" if dy < 0 else "below"), caption
            else:
                assert relation == ("to the left of" if dx < 0 else "to the right of"), caption
            assert objects == expected, "the first-drawn object is the subject"
        else:
            assert relation is None
    assert seen_sizes == {0, 1, 2, 3}


def test_caption_vocabulary_and_tokenizer(scenes):
    vocab = set(CAPTION_VOCAB)
    for _, target in scenes:
        tokens = tokenize_caption(target["caption"])
        assert set(tokens) <= vocab, tokens
        assert tokens[-1] == "."
    assert tokenize_caption("an orange star to the left of a red ring.") == [
        "an", "orange", "star", "to", "the", "left", "of", "a", "red", "ring", "."]
    assert len(CAPTION_VOCAB) == len(vocab)


def test_caption_grammar_examples():
    boxes = np.array([[0, 0, 4, 4], [0, 10, 4, 14], [20, 0, 24, 4]], dtype=np.float32)
    red, blue, green, orange = (COLOR_NAMES.index(c) for c in ("red", "blue", "green", "orange"))
    assert shp._make_caption([1, 4], [red, blue], boxes[:2]) == "a red circle above a blue star."
    assert shp._make_caption([2, 2, 5], [green, green, orange], boxes) == "two green squares and an orange ring."
    assert shp._make_caption([3, 1, 3], [red, blue, red], boxes) == "two red triangles and a blue circle."
    assert shp._make_caption([1, 2, 3], [red, blue, green], boxes) == "a red circle, a blue square and a green triangle."


# --------------------------------------------------------------------------- shapes: collate, errors, plots


def test_detection_collate():
    ds = ShapesScenes(6, image_size=32, seed=0)
    images, targets = detection_collate([ds[0], ds[1], ds[2]])
    assert images.shape == (3, 3, 32, 32) and len(targets) == 3
    assert torch.equal(images[1], ds[1][0]) and targets[2] is not None
    loader = DataLoader(ds, batch_size=4, collate_fn=detection_collate)
    batches = list(loader)
    assert [b[0].shape[0] for b in batches] == [4, 2]
    images, targets = detection_collate([])
    assert images.shape == (0, 3, 0, 0) and targets == []
    with pytest.raises(ValueError, match="same shape"):
        detection_collate([ds[0], ShapesScenes(1, image_size=40)[0]])
    with pytest.raises(TypeError, match=r"batch\[0\] must be an \(image Tensor, target dict\) pair, got Tensor"):
        detection_collate([torch.zeros(3, 8, 8)])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n=-1), ValueError, "n must be"),
        (dict(n=2.5), TypeError, "n must be an int"),
        (dict(n=4, image_size=16), ValueError, "image_size must be at least 32, got 16"),
        (dict(n=4, max_objects=2, min_objects=3), ValueError, "min_objects must be <= max_objects"),
        (dict(n=4, max_objects=11), ValueError, "max_objects must be at most 10"),
        (dict(n=4, background="stripes"), ValueError, "background must be one of"),
        (dict(n=4, size_range=(0.3, 0.1)), ValueError, "size_range"),
        (dict(n=4, min_visible=0.0), ValueError, "min_visible"),
        (dict(n=4, seed=-1), ValueError, "seed"),
    ],
)
def test_shapes_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        ShapesScenes(**kwargs)


def test_shapes_bad_index():
    ds = ShapesScenes(3)
    with pytest.raises(IndexError, match="out of range"):
        ds[3]
    with pytest.raises(TypeError, match=r"index must be an int, got float \(1.0\)"):
        ds[1.0]


def test_shapes_show_returns_figure():
    fig = ShapesScenes(5, image_size=32, seed=0).show(n=3, seed=1, semantic=True)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len([ax for ax in fig.axes if ax.images]) == 3
    plt.close(fig)


# --------------------------------------------------------------------------- figures: basics


def test_keypoint_definitions():
    assert len(KEYPOINT_NAMES) >= 13 and len(set(KEYPOINT_NAMES)) == len(KEYPOINT_NAMES)
    for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
        assert f"left_{part}" in KEYPOINT_NAMES and f"right_{part}" in KEYPOINT_NAMES
    # The skeleton is a tree over all keypoints: K - 1 edges that connect everything.
    assert len(SKELETON) == len(KEYPOINT_NAMES) - 1
    reached, frontier = {0}, [0]
    while frontier:
        k = frontier.pop()
        for i, j in SKELETON:
            for a, b in ((i, j), (j, i)):
                if a == k and b not in reached:
                    reached.add(b)
                    frontier.append(b)
    assert reached == set(range(len(KEYPOINT_NAMES)))
    for left, right in FLIP_PAIRS:
        assert KEYPOINT_NAMES[left].replace("left_", "right_") == KEYPOINT_NAMES[right]


def test_figures_item_types_and_ranges(figures):
    for image, target in figures:
        assert image.shape == (3, 64, 64) and image.dtype == torch.float32
        assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0
        kp = target["keypoints"]
        assert set(target) == {"keypoints"}
        assert kp.shape == (len(KEYPOINT_NAMES), 3) and kp.dtype == torch.float32
        assert ((kp[:, 2] == 0) | (kp[:, 2] == 1)).all()
        assert (kp[:, :2] >= 0).all() and (kp[:, :2] <= 63).all(), "keypoints inside the image"


def test_figures_deterministic_and_parts_independent():
    a, b = ArticulatedFigures(10, seed=7), ArticulatedFigures(10, seed=7)
    for i in (0, 4, 9):
        assert torch.equal(a[i][0], b[i][0]) and torch.equal(a[i][1]["keypoints"], b[i][1]["keypoints"])
    c = ArticulatedFigures(10, seed=8)
    assert not torch.equal(a[0][1]["keypoints"], c[0][1]["keypoints"])
    assert not torch.equal(a[0][1]["keypoints"], a[1][1]["keypoints"])
    # Separate random streams: clutter and occluders do not move the figure.
    plain = ArticulatedFigures(10, seed=7, clutter=False, occlusion_prob=0.0)
    for i in range(10):
        torch.testing.assert_close(plain[i][1]["keypoints"][:, :2], a[i][1]["keypoints"][:, :2], rtol=0, atol=0)


def test_figure_is_drawn_where_the_keypoints_are():
    # Without noise, the head, neck and pelvis pixels show the one body colour (unless an
    # arm, drawn on top, happens to cross one of them).
    ds = ArticulatedFigures(40, seed=1, pixel_noise=0.0, occlusion_prob=0.0)
    same = 0
    for image, target in ds:
        idx = [KEYPOINT_NAMES.index(k) for k in ("head", "neck", "pelvis")]
        cols = torch.floor(target["keypoints"][idx, :2] + 0.5).long()  # pixel under each keypoint
        colours = image[:, cols[:, 1], cols[:, 0]].T  # [3 points, 3 channels]
        same += bool(torch.allclose(colours, colours[:1].expand_as(colours)))
    assert same >= 30


def test_occlusion_statistics(figures):
    vis = torch.stack([t["keypoints"][:, 2] for _, t in figures])  # [N, K]
    hidden = (vis == 0).sum(dim=1)
    share_images = (hidden > 0).double().mean()
    assert 0.3 <= share_images <= 0.7, share_images  # occlusion_prob = 0.5
    assert int(hidden.max()) <= 4  # max_occluded
    assert (vis == 0).double().mean() < 0.2
    none = ArticulatedFigures(30, seed=0, occlusion_prob=0.0)
    assert all(bool((t["keypoints"][:, 2] == 1).all()) for _, t in none)


def test_occluded_keypoints_are_under_the_patch():
    # Same figure and noise with and without the occluder: the patch is where they differ.
    with_patch = ArticulatedFigures(30, seed=4, occlusion_prob=1.0)
    without = ArticulatedFigures(30, seed=4, occlusion_prob=0.0)
    occluded = 0
    for (img_a, tgt), (img_b, _) in zip(with_patch, without):
        kp = tgt["keypoints"]
        cols = torch.floor(kp[:, :2] + 0.5).long()
        changed = (img_a != img_b).any(dim=0)[cols[:, 1], cols[:, 0]]  # [K]
        assert torch.equal(changed, kp[:, 2] == 0)
        occluded += int((kp[:, 2] == 0).sum())
    assert occluded > 0


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n=-1), ValueError, "n must be"),
        (dict(n=4, image_size=16), ValueError, "image_size must be at least 32, got 16"),
        (dict(n=4, occlusion_prob=1.5), ValueError, "occlusion_prob"),
        (dict(n=4, scale_range=(0.0, 1.0)), ValueError, "scale_range"),
        (dict(n=4, max_occluded=0), ValueError, "max_occluded"),
        (dict(n=4, clutter="yes"), TypeError, "clutter"),
    ],
)
def test_figures_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        ArticulatedFigures(**kwargs)


def test_figures_show_returns_figure():
    fig = ArticulatedFigures(5, image_size=32, seed=0).show(n=3, seed=0, names=True)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len([ax for ax in fig.axes if ax.images]) == 3
    plt.close(fig)


# --------------------------------------------------------------------------- heatmaps


def _render_heatmaps_loop(keypoints, size, sigma, stride, include_occluded):
    """Reference: one Gaussian value per (keypoint, cell), written for clarity."""
    h, w = size[0] // stride, size[1] // stride
    out = torch.zeros(len(keypoints), h, w, dtype=keypoints.dtype)
    for k, (x, y, v) in enumerate(keypoints.tolist()):
        if v == 0 and not include_occluded:
            continue
        for i in range(h):
            for j in range(w):
                u, t = j * stride + (stride - 1) / 2, i * stride + (stride - 1) / 2  # cell centre in the image
                out[k, i, j] = np.exp(-((u - x) ** 2 + (t - y) ** 2) / (2 * (sigma * stride) ** 2))
    return out


@pytest.mark.parametrize("stride", [1, 2, 4])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("include_occluded", [False, True])
def test_render_heatmaps_matches_loop_reference(stride, dtype, include_occluded):
    g = torch.Generator().manual_seed(stride)
    kp = torch.cat([torch.rand(5, 2, generator=g) * 23, torch.tensor([[1.0], [0.0], [1.0], [1.0], [0.0]])], dim=1)
    kp = kp.to(dtype)
    got = render_heatmaps(kp, (24, 20), sigma=1.5, stride=stride, include_occluded=include_occluded)
    expected = _render_heatmaps_loop(kp, (24, 20), 1.5, stride, include_occluded)
    assert got.dtype == dtype and got.shape == (5, 24 // stride, 20 // stride)
    tol = 1e-6 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(got, expected, rtol=0, atol=tol)


def test_heatmap_peak_is_one_at_integer_keypoint():
    kp = torch.tensor([[5.0, 9.0, 1.0], [0.0, 0.0, 1.0], [15.0, 11.0, 1.0]])
    maps = render_heatmaps(kp, (12, 16), sigma=2.0)
    for k, (x, y, _) in enumerate(kp.long().tolist()):
        assert float(maps[k, y, x]) == 1.0
        assert int(maps[k].argmax()) == y * 16 + x
    occluded = render_heatmaps(torch.tensor([[3.0, 3.0, 0.0]]), (8, 8))
    assert float(occluded.abs().max()) == 0.0


def test_heatmap_round_trip_on_dataset_keypoints(figures):
    kp = torch.stack([t["keypoints"] for _, t in figures[:40]])  # [B, K, 3]
    maps = render_heatmaps(kp, (64, 64), sigma=2.0, include_occluded=True)  # [B, K, 64, 64]
    decoded = heatmaps_to_keypoints(maps)  # [B, K, 3]
    error = (decoded[..., :2] - kp[..., :2]).abs().max()
    assert error < 1e-2, error  # the log-parabola fit is exact for Gaussians, far below 1 px
    assert (decoded[..., 2] > 0.8).all()
    # Without refinement the argmax is the nearest cell: at most half a pixel off per axis.
    coarse = heatmaps_to_keypoints(maps, refine=False)
    assert (coarse[..., :2] - kp[..., :2]).abs().max() <= 0.5 + 1e-4
    # With stride, cells on the border cannot be refined: still within stride / 2.
    maps4 = render_heatmaps(kp, (64, 64), sigma=1.0, stride=4, include_occluded=True)
    assert maps4.shape == (40, len(KEYPOINT_NAMES), 16, 16)
    assert (heatmaps_to_keypoints(maps4, stride=4)[..., :2] - kp[..., :2]).abs().max() <= 2.0
    # Occluded keypoints get empty maps by default, which decode with score 0.
    hidden = render_heatmaps(kp, (64, 64))
    scores = heatmaps_to_keypoints(hidden)[..., 2]
    assert torch.equal(scores == 0, kp[..., 2] == 0)


def test_heatmaps_empty_and_bad_inputs():
    assert render_heatmaps(torch.zeros(0, 3), (8, 8)).shape == (0, 8, 8)
    assert heatmaps_to_keypoints(torch.zeros(0, 8, 8)).shape == (0, 3)
    assert heatmaps_to_keypoints(torch.zeros(2, 0, 4, 4)).shape == (2, 0, 3)
    with pytest.raises(ValueError, match=r"\[K, 3\]"):
        render_heatmaps(torch.zeros(4, 2), (8, 8))
    with pytest.raises(TypeError, match="floating"):
        render_heatmaps(torch.zeros(4, 3, dtype=torch.long), (8, 8))
    with pytest.raises(ValueError, match="sigma"):
        render_heatmaps(torch.zeros(4, 3), (8, 8), sigma=0.0)
    with pytest.raises(ValueError, match="stride"):
        render_heatmaps(torch.zeros(4, 3), (8, 8), stride=0)
    with pytest.raises(ValueError, match="heatmaps"):
        heatmaps_to_keypoints(torch.zeros(8, 8))


def test_hflip_keypoints_matches_flipped_heatmaps(figures):
    kp = figures[0][1]["keypoints"]
    flipped = hflip_keypoints(kp, 64)
    perm = list(range(len(KEYPOINT_NAMES)))
    for left, right in FLIP_PAIRS:
        perm[left], perm[right] = right, left
    expected = render_heatmaps(kp, (64, 64), include_occluded=True).flip(-1)[perm]
    torch.testing.assert_close(render_heatmaps(flipped, (64, 64), include_occluded=True), expected)
    torch.testing.assert_close(hflip_keypoints(flipped, 64), kp)
