"""Tests of course_utils.data: digits, photos, action clips and the local real datasets."""
import matplotlib

matplotlib.use("Agg")

import math  # noqa: E402
import pickle  # noqa: E402
import socket  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.linear_model import LogisticRegression, RidgeClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from course_utils.data import (  # noqa: E402
    ACTION_CLASSES,
    CIFAR10_CLASSES,
    PHOTO_NAMES,
    VOC_CLASSES,
    ActionClips,
    DigitsDataset,
    cifar10,
    digits_loaders,
    load_photo,
    voc_detection,
    voc_target,
)

N_DIGITS = 1797


@pytest.fixture
def no_network(monkeypatch):
    """Make any attempt to open a network connection fail loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError("this test must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _check_figure(fig) -> None:
    assert isinstance(fig, Figure) and len(fig.axes) > 0
    plt.close(fig)


# --------------------------------------------------------------------------- digits


@pytest.fixture(scope="module")
def digit_splits():
    return {split: DigitsDataset(split) for split in ("train", "val", "test")}


def test_digits_splits_are_disjoint_and_cover_everything(digit_splits):
    sizes = {split: len(ds) for split, ds in digit_splits.items()}
    assert sizes == {"train": 1078, "val": 359, "test": 360}
    all_indices = torch.cat([ds.indices for ds in digit_splits.values()])
    assert len(all_indices) == N_DIGITS
    assert torch.equal(all_indices.sort().values, torch.arange(N_DIGITS))


def test_digits_splits_are_stratified(digit_splits):
    counts = {split: torch.bincount(ds.labels, minlength=10) for split, ds in digit_splits.items()}
    per_class = sum(counts.values())  # [10], images of each digit in the whole set
    for split, fraction in zip(("train", "val", "test"), (0.6, 0.2, 0.2)):
        # Rounding per class can move at most one image of a class between splits.
        deviation = (counts[split] - fraction * per_class).abs().max().item()
        assert deviation <= 1.0, f"{split}: class counts {counts[split].tolist()} are not {fraction:.0%} per class"


def test_digits_items_shapes_dtypes_and_ranges(digit_splits):
    train = digit_splits["train"]
    image, label = train[0]
    assert image.shape == (1, 8, 8) and image.dtype == torch.float32
    assert isinstance(label, int) and 0 <= label <= 9
    assert train.images.shape == (1078, 1, 8, 8) and train.labels.dtype == torch.int64
    assert train.classes == tuple(str(d) for d in range(10))
    raw = DigitsDataset("val", size=28, normalize=False)
    assert raw.images.shape == (359, 1, 28, 28)
    assert raw.images.min() >= 0.0 and raw.images.max() <= 1.0
    assert raw.images.max() > 0.9  # 16/16 pixels exist: the scaling is 0..16 -> 0..1


def test_digits_normalize_with_train_statistics(digit_splits):
    train, val = digit_splits["train"], digit_splits["val"]
    assert abs(train.images.mean().item()) < 1e-4
    assert abs(train.images.std(unbiased=False).item() - 1.0) < 1e-4
    assert (val.mean, val.std) == (train.mean, train.std)  # val/test reuse the train statistics
    raw = DigitsDataset("val", normalize=False)
    torch.testing.assert_close(val.images, (raw.images - train.mean) / train.std)
    # The statistics describe the pixels at the requested size.
    big = DigitsDataset("train", size=32, normalize=False)
    assert big.mean == pytest.approx(big.images.mean().item(), abs=1e-5)
    assert big.std == pytest.approx(big.images.std(unbiased=False).item(), abs=1e-5)


def test_digits_deterministic_for_a_seed():
    a, b = DigitsDataset("test", seed=3), DigitsDataset("test", seed=3)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    other = DigitsDataset("test", seed=4)
    assert not torch.equal(a.indices, other.indices)
    assert torch.equal(DigitsDataset("train", size=8).images, DigitsDataset("train").images)


def test_digits_resize_matches_torch_interpolate():
    small = DigitsDataset("train", normalize=False)
    big = DigitsDataset("train", size=32, normalize=False)
    expected = torch.nn.functional.interpolate(small.images, size=(32, 32), mode="bilinear", antialias=True)
    torch.testing.assert_close(big.images, expected.clamp(0, 1))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(split="training"), ValueError, "split must be one of"),
        (dict(size=0), ValueError, "size must be a positive integer, got 0"),
        (dict(size=-28), ValueError, "size"),
        (dict(size=28.0), TypeError, "size must be an int"),
        (dict(size=True), TypeError, "size must be an int"),
        (dict(normalize="yes"), TypeError, "normalize must be True or False"),
        (dict(seed=-1), ValueError, "seed"),
    ],
)
def test_digits_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        DigitsDataset(**kwargs)


def test_digits_loaders():
    train, val, test = digits_loaders(batch_size=50, size=16)
    images, labels = next(iter(train))
    assert images.shape == (50, 1, 16, 16) and images.dtype == torch.float32
    assert labels.shape == (50,) and labels.dtype == torch.int64
    assert sum(len(b[1]) for b in val) == 359 and sum(len(b[1]) for b in test) == 360
    # val is not shuffled: batches follow the dataset order.
    assert torch.equal(next(iter(val))[1], val.dataset.labels[:50])
    # train is shuffled, reproducibly for a seed: a new call repeats the same epochs.
    again, _, _ = digits_loaders(batch_size=50, size=16)
    first_epoch = [b[1] for b in again]
    assert torch.equal(first_epoch[0], labels)
    assert not torch.equal(first_epoch[0], train.dataset.labels[:50])
    second_epoch = [b[1] for b in again]
    assert not torch.equal(first_epoch[0], second_epoch[0])
    with pytest.raises(ValueError, match="batch_size"):
        digits_loaders(batch_size=0)


def test_digits_show(digit_splits):
    _check_figure(digit_splits["train"].show(n=4))


# --------------------------------------------------------------------------- photos


def test_every_photo_loads_offline(no_network):
    for name in PHOTO_NAMES:
        photo = load_photo(name)
        assert photo.ndim == 3 and photo.shape[0] == 3, name
        assert photo.dtype == torch.float32, name
        assert 0.0 <= photo.min() and photo.max() <= 1.0 and photo.max() > 0.3, name


def test_photo_grayscale_and_resize():
    camera = load_photo("camera")  # a grey-level photo: channels repeated
    assert camera.shape == (3, 512, 512)
    assert torch.equal(camera[0], camera[1]) and torch.equal(camera[0], camera[2])
    coffee = load_photo("coffee", size=100)  # 400 x 600: the shorter side becomes 100
    assert coffee.shape == (3, 100, 150)
    assert load_photo("coffee", size=(30, 40)).shape == (3, 30, 40)
    photo = load_photo("astronaut")
    photo.zero_()  # a copy: the cached photo is untouched
    assert load_photo("astronaut").max() > 0


def test_photo_errors():
    with pytest.raises(ValueError, match="unknown photo 'eagle'; valid names are: astronaut"):
        load_photo("eagle")
    with pytest.raises(ValueError, match="size"):
        load_photo("camera", size=(1, 2, 3))
    with pytest.raises(ValueError, match="size must be a positive integer"):
        load_photo("camera", size=0)
    with pytest.raises(TypeError, match="name must be a str"):
        load_photo(3)


# --------------------------------------------------------------------------- action clips


def test_clips_shapes_dtypes_labels():
    clips = ActionClips(10, frames=5, image_size=20, seed=1)
    clip, label = clips[9]
    assert clip.shape == (3, 5, 20, 20) and clip.dtype == torch.float32
    assert 0.0 <= clip.min() and clip.max() <= 1.0
    assert label == 9 % len(ACTION_CLASSES) and isinstance(label, int)
    assert torch.equal(clips.labels, torch.arange(10) % 8)
    assert len(ACTION_CLASSES) >= 8 and {"move_left", "rotate_cw", "grow", "shrink"} <= set(ACTION_CLASSES)
    gray = ActionClips(2, frames=3, image_size=16, channels=1)
    assert gray[0][0].shape == (1, 3, 16, 16)
    all_clips, labels = clips.tensors()
    assert all_clips.shape == (10, 3, 5, 20, 20) and torch.equal(all_clips[9], clip) and torch.equal(labels, clips.labels)
    assert ActionClips(0).tensors()[0].shape == (0, 3, 8, 32, 32)


def test_clips_deterministic_for_a_seed():
    a, b = ActionClips(6, frames=4, image_size=16, seed=2), ActionClips(6, frames=4, image_size=16, seed=2)
    assert torch.equal(a[5][0], b[5][0])
    assert torch.equal(a[-1][0], a[5][0])
    c = ActionClips(6, frames=4, image_size=16, seed=3)
    assert not torch.equal(a[5][0], c[5][0])
    assert not torch.equal(a[4][0], a[5][0])
    with pytest.raises(IndexError):
        a[6]


def test_clips_frames_change():
    clip, _ = ActionClips(8, frames=4, image_size=24)[0]
    assert (clip[:, 0] - clip[:, -1]).abs().max() > 0.3  # the shape moved


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n=-1), ValueError, "n must be a non-negative integer"),
        (dict(n=4, frames=1), ValueError, "frames must be at least 2"),
        (dict(n=4, image_size=8), ValueError, "image_size must be at least 16"),
        (dict(n=4, channels=2), ValueError, "channels must be one of"),
        (dict(n=4.0), TypeError, "n must be an int"),
    ],
)
def test_clips_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        ActionClips(**kwargs)


def _moments(frames: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Mass, centroid and doubled orientation of the bright shape in each frame [N, C, H, W]."""
    gray = frames.amax(1)  # [N, H, W]
    # Foreground weight: brightness well above the frame's median (the background level).
    w = (gray - gray.flatten(1).median(1).values[:, None, None] - 0.2).clamp(min=0)  # [N, H, W]
    size = frames.shape[-1]
    ys, xs = torch.meshgrid(torch.arange(size) + 0.5, torch.arange(size) + 0.5, indexing="ij")  # [H, W]
    mass = w.sum((1, 2)).clamp_min(1e-6)  # [N]
    cx, cy = (w * xs).sum((1, 2)) / mass, (w * ys).sum((1, 2)) / mass  # [N]
    dx, dy = xs - cx[:, None, None], ys - cy[:, None, None]  # [N, H, W]
    mu20, mu02, mu11 = ((w * a * b).sum((1, 2)) / mass for a, b in ((dx, dx), (dy, dy), (dx, dy)))
    two_theta = torch.atan2(2 * mu11, mu20 - mu02)  # orientation of the principal axis, doubled
    return mass, cx, cy, two_theta


def test_clips_class_is_in_the_motion_not_in_a_frame():
    """A classifier that sees one frame is at chance; one that sees two frames is not."""
    n, frames, size = 400, 8, 16
    clips, labels = ActionClips(n, frames=frames, image_size=size, seed=0).tensors()
    labels = labels.numpy()
    n_train = 3 * n // 4

    def accuracy(model, features) -> float:
        model.fit(features[:n_train], labels[:n_train])
        return model.score(features[n_train:], labels[n_train:])

    # One random frame of each clip (the model is not told which).
    t = torch.as_tensor(np.random.default_rng(0).integers(frames, size=n))
    single = clips[torch.arange(n), :, t]  # [N, C, H, W]
    pixel_acc = accuracy(RidgeClassifier(alpha=1.0), single.flatten(1).numpy())
    mass, cx, cy, two_theta = _moments(single)
    frame_features = torch.stack([mass.log(), cx, cy, two_theta.cos(), two_theta.sin()], 1).numpy()
    frame_acc = accuracy(make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), frame_features)
    # The same measurements on the first and the last frame, as changes.
    m0, x0, y0, a0 = _moments(clips[:, :, 0])
    m1, x1, y1, a1 = _moments(clips[:, :, -1])
    turn = torch.remainder(a1 - a0 + math.pi, 2 * math.pi) - math.pi  # wrapped to (-pi, pi]
    motion_features = torch.stack([(m1 / m0).log(), x1 - x0, y1 - y0, turn], 1).numpy()
    motion_acc = accuracy(make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), motion_features)

    chance = 1 / len(ACTION_CLASSES)
    assert pixel_acc < 0.35, f"a linear model on the pixels of ONE frame gets {pixel_acc:.2f} (chance {chance:.2f})"
    assert frame_acc < 0.35, f"position/size/orientation of ONE frame give {frame_acc:.2f} (chance {chance:.2f})"
    assert motion_acc > 0.7, f"the changes between two frames only give {motion_acc:.2f}"


def test_clips_show():
    _check_figure(ActionClips(4, frames=3, image_size=16).show(n=2))


# --------------------------------------------------------------------------- CIFAR-10 (fake copy)


def _write_fake_cifar(root, per_batch: int = 4, batches=None):
    """A CIFAR-10 folder in the real format, with ``per_batch`` random images per batch file."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = batches or [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    written = {}
    for name in names:
        # Each row is one image: 1024 red, then 1024 green, then 1024 blue values, row-major.
        data = rng.integers(0, 256, size=(per_batch, 3 * 32 * 32), dtype=np.uint8)
        labels = rng.integers(0, 10, size=per_batch).tolist()
        with open(folder / name, "wb") as f:
            pickle.dump({"batch_label": name, "labels": labels, "data": data, "filenames": [""] * per_batch}, f)
        written[name] = (data, labels)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": list(CIFAR10_CLASSES), "num_cases_per_batch": per_batch}, f)
    return written


def test_cifar10_reads_a_local_copy(tmp_path, no_network):
    written = _write_fake_cifar(tmp_path)
    train = cifar10(tmp_path, train=True)
    assert len(train) == 20 and train.classes == list(CIFAR10_CLASSES)
    test = cifar10(tmp_path, train=False, transform=lambda img: torch.from_numpy(np.array(img)).permute(2, 0, 1))
    image, label = test[1]
    data, labels = written["test_batch"]
    assert image.shape == (3, 32, 32) and label == labels[1]
    assert torch.equal(image, torch.from_numpy(data[1].reshape(3, 32, 32)))
    _check_figure(train.show(n=3))


def test_cifar10_missing_files_give_a_clear_error(tmp_path, no_network):
    with pytest.raises(FileNotFoundError, match=r"cifar-10-batches-py[\\/]data_batch_1") as info:
        cifar10(tmp_path)
    message = str(info.value)
    assert "test_batch" not in message  # only the files of the requested split are listed
    assert "cifar-10-python.tar.gz" in message and "download=True" in message
    assert list(tmp_path.iterdir()) == []  # nothing was downloaded or created
    # A copy with only the test batch serves train=False and names what train=True lacks.
    _write_fake_cifar(tmp_path, batches=["test_batch"])
    assert len(cifar10(tmp_path, train=False)) == 4
    with pytest.raises(FileNotFoundError, match=r"data_batch_3 +<- missing"):
        cifar10(tmp_path, train=True)


# --------------------------------------------------------------------------- Pascal VOC (fake copy)

_XML = """<annotation>
  <folder>VOC2012</folder><filename>{name}.jpg</filename>
  <size><width>{w}</width><height>{h}</height><depth>3</depth></size>
  {objects}
</annotation>"""
_OBJECT = """<object><name>{cls}</name><pose>Left</pose><truncated>0</truncated><difficult>{difficult}</difficult>
  <bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>"""


def _write_fake_voc(root):
    """VOCdevkit/VOC2012 with two JPEGs: one with two objects (one difficult), one with none."""
    voc = root / "VOCdevkit" / "VOC2012"
    for sub in ("JPEGImages", "Annotations", "ImageSets/Main"):
        (voc / sub).mkdir(parents=True)
    Image.new("RGB", (40, 30), (200, 20, 20)).save(voc / "JPEGImages" / "2012_000001.jpg")
    Image.new("RGB", (24, 32), (20, 200, 20)).save(voc / "JPEGImages" / "2012_000002.jpg")
    objects = _OBJECT.format(cls="dog", difficult=0, x1=1, y1=2, x2=20, y2=30) + _OBJECT.format(
        cls="person", difficult=1, x1="5.0", y1="6.0", x2="40.0", y2="28.0"
    )
    (voc / "Annotations" / "2012_000001.xml").write_text(_XML.format(name="2012_000001", w=40, h=30, objects=objects))
    (voc / "Annotations" / "2012_000002.xml").write_text(_XML.format(name="2012_000002", w=24, h=32, objects=""))
    (voc / "ImageSets" / "Main" / "train.txt").write_text("2012_000001\n2012_000002\n")


def test_voc_reads_a_local_copy(tmp_path, no_network):
    _write_fake_voc(tmp_path)
    dataset = voc_detection(tmp_path)
    assert len(dataset) == 2
    image, annotation = dataset[0]
    assert image.size == (40, 30)
    target = voc_target(annotation)
    # VOC pixels are 1-based and inclusive: (xmin, ymin, xmax, ymax) -> (xmin - 1, ymin - 1, xmax, ymax).
    torch.testing.assert_close(target["boxes"], torch.tensor([[0.0, 1.0, 20.0, 30.0], [4.0, 5.0, 40.0, 28.0]]))
    assert target["boxes"].dtype == torch.float32 and target["labels"].dtype == torch.int64
    assert target["labels"].tolist() == [VOC_CLASSES.index("dog"), VOC_CLASSES.index("person")]
    assert target["difficult"].tolist() == [False, True]
    assert VOC_CLASSES[0] == "background" and len(VOC_CLASSES) == 21
    empty = voc_target(dataset[1][1])  # an image without objects
    assert empty["boxes"].shape == (0, 4) and empty["labels"].shape == (0,)
    assert empty["boxes"].dtype == torch.float32 and empty["labels"].dtype == torch.int64
    # transforms see (image, annotation) and may return the course's target format.
    with_targets = voc_detection(tmp_path, transforms=lambda img, ann: (np.asarray(img), voc_target(ann)))
    assert with_targets[1][0].shape == (32, 24, 3) and with_targets[0][1]["labels"].tolist() == [12, 15]
    _check_figure(with_targets.show(n=2))


def test_voc_missing_files_give_a_clear_error(tmp_path, no_network):
    with pytest.raises(FileNotFoundError) as info:
        voc_detection(tmp_path)
    message = str(info.value)
    for part in ("VOC2012", "JPEGImages", "Annotations", "train.txt", "VOCtrainval_11-May-2012.tar", "download=True"):
        assert part in message, f"{part!r} missing from the error message:\n{message}"
    assert list(tmp_path.iterdir()) == []
    _write_fake_voc(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"val\.txt +<- missing"):
        voc_detection(tmp_path, image_set="val")
    with pytest.raises(ValueError, match="year must be one of"):
        voc_detection(tmp_path, year="2013")
    with pytest.raises(ValueError, match="image_set must be one of"):
        voc_detection(tmp_path, image_set="test")  # test exists only for 2007


def test_voc_target_rejects_unknown_classes():
    obj = {"name": "unicorn", "bndbox": {"xmin": "1", "ymin": "1", "xmax": "2", "ymax": "2"}}
    with pytest.raises(ValueError, match="unknown VOC class 'unicorn'; valid names are: aeroplane"):
        voc_target({"annotation": {"object": [obj]}})
    with pytest.raises(TypeError, match="annotation must be a dict"):
        voc_target([obj])


def test_voc_target_rejects_malformed_objects():
    box = {"xmin": "1", "ymin": "11", "xmax": "50", "ymax": "40"}
    # an object without a name used to raise a bare KeyError: 'name'
    with pytest.raises(ValueError, match="annotation object 0 has no 'name'"):
        voc_target({"annotation": {"object": [{"bndbox": box}]}})
    with pytest.raises(ValueError, match="annotation object 1 has no 'bndbox'"):
        voc_target({"annotation": {"object": [{"name": "dog", "bndbox": box}, {"name": "cat"}]}})
    # an inverted box used to be accepted
    with pytest.raises(ValueError, match="annotation object 0: 'bndbox' is inverted"):
        voc_target({"annotation": {"object": [{"name": "dog", "bndbox": {**box, "xmax": "0"}}]}})
    with pytest.raises(ValueError, match="annotation object 0: 'bndbox' ymax must be finite, got 'nan'"):
        voc_target({"annotation": {"object": [{"name": "dog", "bndbox": {**box, "ymax": "nan"}}]}})
    with pytest.raises(ValueError, match="annotation object 0: 'bndbox' xmin must be a number, got 'left'"):
        voc_target({"annotation": {"object": [{"name": "dog", "bndbox": {**box, "xmin": "left"}}]}})
    with pytest.raises(TypeError, match="annotation object 0 must be a dict, got str"):
        voc_target({"annotation": {"object": ["dog"]}})
    target = voc_target({"annotation": {"object": [{"name": "dog", "bndbox": {**box, "xmin": "50.0"}}]}})
    assert target["boxes"].tolist() == [[49.0, 10.0, 50.0, 40.0]]  # a one-pixel-wide box is fine
