"""Synthetic video clips whose class is defined only by motion.

Each clip shows one rotationally asymmetric shape (triangle, L, T, arrow or flag)
with a random colour on a noisy background, and the shape moves in one of eight
ways (:data:`ACTION_CLASSES`): it translates left / right / up / down, rotates
clockwise / counter-clockwise (as seen on screen, the y axis pointing down), grows
or shrinks. Everything else is random per clip.

The dataset is built so that **a single frame carries no information about the
class**; only the change between frames does. This is what the video chapter
needs: a per-frame 2D CNN must fail where a 3D CNN or a two-frame model succeeds.
The trick is to make the distribution of a single frame (pooled over the frame
index) identical for every class:

* the angle starts uniformly on the circle, so every frame's angle is uniform, and
  all classes share the same shapes and colours;
* the centre ``x``, centre ``y`` and log-size ``log r`` each follow the same recipe.
  A parameter that moves goes from ``base`` to ``base + delta`` (or back) over the
  clip; a parameter that does not move sits at ``base + (k / (T - 1)) * delta``
  for a random frame index ``k``. With ``base`` uniform on its range and the same
  ``delta`` distribution, the value seen in a random frame has the same
  distribution whether the parameter moves or not, and whichever way it moves.

(The frame *index* still leaks a little: in frame 0 a shape that will move left is
more often on the right. A model that sees one frame without its index cannot use
that.) The tests train classifiers to check it: on single frames they stay at
chance, on two frames they are nearly perfect.

Coordinates: pixel ``(i, j)`` covers ``[j, j + 1] x [i, i + 1]`` in ``(x, y)``. Each shape is
rasterized once into a finely supersampled template, which is warped into all frames of a
clip at once (bilinear sampling, 2x2 supersampled), so edges are antialiased and a clip is cheap.
Items are generated on the fly from ``(seed, index)``: the same item on every call
and every machine, whatever the order of access, with constant memory.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
from torch.utils.data import Dataset

from course_utils.checks import check_in, check_index, check_nonnegative_int, check_positive_int, check_seed
from course_utils.data._raster import convex_polygon_mask, hsv_to_rgb, item_rngs, pixel_grid, smooth_noise

__all__ = ["ActionClips", "ACTION_CLASSES", "CLIP_SHAPES"]

ACTION_CLASSES = ("move_left", "move_right", "move_up", "move_down", "rotate_cw", "rotate_ccw", "grow", "shrink")

# Shapes as unions of convex parts, vertices (x, y) in a template frame where the shape
# spans [-1, 1] along its long axis (y). None of them looks the same after a turn of
# less than 180 degrees, and all are elongated, so their orientation is always visible.
CLIP_SHAPES: dict[str, list[list[tuple[float, float]]]] = {
    "triangle": [[(0.0, -1.0), (0.55, 1.0), (-0.55, 1.0)]],
    "L": [[(-0.5, -1.0), (-0.05, -1.0), (-0.05, 1.0), (-0.5, 1.0)], [(-0.05, 0.55), (0.5, 0.55), (0.5, 1.0), (-0.05, 1.0)]],
    "T": [[(-0.55, -1.0), (0.55, -1.0), (0.55, -0.55), (-0.55, -0.55)], [(-0.2, -0.55), (0.2, -0.55), (0.2, 1.0), (-0.2, 1.0)]],
    "arrow": [[(0.0, -1.0), (0.5, -0.25), (-0.5, -0.25)], [(-0.18, -0.25), (0.18, -0.25), (0.18, 1.0), (-0.18, 1.0)]],
    "flag": [[(-0.5, -1.0), (-0.3, -1.0), (-0.3, 1.0), (-0.5, 1.0)], [(-0.3, -1.0), (0.5, -0.6), (-0.3, -0.2)]],
}
_SHAPE_PARTS = [[np.asarray(part, dtype=np.float32) for part in parts] for parts in CLIP_SHAPES.values()]
# Largest distance of a template vertex from the origin: the shape's bounding circle is r times this.
_TEMPLATE_RADIUS = max(float(np.linalg.norm(p, axis=1).max()) for parts in _SHAPE_PARTS for p in parts)

_SALT = 0xC11B  # keeps the random streams of this dataset apart from the other synthetic datasets
TEMPLATE_SIZE = 64  # side of the pre-rasterized shape templates
TEMPLATE_SUPERSAMPLE = 4  # sub-pixel samples per side when building a template
SUPERSAMPLE = 2  # sub-pixel samples per side when warping a template into a frame
SIZE_RANGE = (0.12, 0.22)  # half-length r of the shape, as a fraction of the image side
SIZE_CHANGE = (1.4, 1.6)  # grow / shrink: ratio of the final to the initial size (or inverse)
SHIFT_FRACTION = (0.4, 0.6)  # translation over the clip, as a fraction of the range of centres
TURN_DEGREES = (40.0, 70.0)  # rotation over the clip (below 90 so it is never ambiguous)
BACKGROUND_LEVEL = (0.0, 0.25)  # grey level of the background
TEXTURE_AMPLITUDE = 0.15  # static smooth noise added to the background
FRAME_NOISE = 0.03  # std of the independent Gaussian noise of each frame
COLOUR_VALUE = (0.8, 1.0)  # HSV value of the shape: always brighter than the background

# For each class: which of (x, y, log r) moves and in which direction (+1 / -1), and the
# direction of rotation (+1 = increasing angle = clockwise on screen since y points down).
_MOTION = {
    "move_left": ((-1, 0, 0), 0),
    "move_right": ((1, 0, 0), 0),
    "move_up": ((0, -1, 0), 0),
    "move_down": ((0, 1, 0), 0),
    "rotate_cw": ((0, 0, 0), 1),
    "rotate_ccw": ((0, 0, 0), -1),
    "grow": ((0, 0, 1), 0),
    "shrink": ((0, 0, -1), 0),
}


@lru_cache(maxsize=None)
def _template(shape: int) -> np.ndarray:
    """Coverage of shape ``shape`` on the square [-R, R]^2, R = ``_TEMPLATE_RADIUS``.

    Returns np.ndarray[TEMPLATE_SIZE + 2, TEMPLATE_SIZE + 2] float32 in [0, 1] (the fraction of each
    template pixel inside the shape) with a border of zeros, built once per shape and cached.
    """
    fine = TEMPLATE_SIZE * TEMPLATE_SUPERSAMPLE
    xs, ys = pixel_grid(fine, 0.5)  # [1, fine], [fine, 1] in fine pixels
    to_template = 2.0 * _TEMPLATE_RADIUS / fine  # fine pixel -> template units
    xs, ys = xs * to_template - _TEMPLATE_RADIUS, ys * to_template - _TEMPLATE_RADIUS
    inside = np.zeros((fine, fine), dtype=bool)
    for part in _SHAPE_PARTS[shape]:
        inside |= convex_polygon_mask(xs, ys, part)
    k = TEMPLATE_SUPERSAMPLE
    coverage = inside.reshape(TEMPLATE_SIZE, k, TEMPLATE_SIZE, k).mean(axis=(1, 3), dtype=np.float32)  # [S, S]
    # The zero border lets _rasterize clamp far-away sample points onto it instead of testing bounds.
    return np.pad(coverage, 1)


def _rasterize(
    template: np.ndarray, cx: np.ndarray, cy: np.ndarray, radius: np.ndarray, angle: np.ndarray, size: int
) -> np.ndarray:
    """Warp ``template`` into T frames: centre (cx, cy) px, half-length ``radius`` px, ``angle`` rad.

    A template point v lands at c + radius * R(angle) v in the image, so an image point x
    samples the template at v = R(-angle) (x - c) / radius (bilinear interpolation). Sampling
    runs on a grid SUPERSAMPLE times finer than the image and is then averaged, for
    antialiased edges. (Plain numpy: on tiny tensors torch's thread pool costs more than it saves.)

    Returns:
        np.ndarray[T, H, W] float32 coverage in [0, 1].
    """
    fine = size * SUPERSAMPLE
    xs = (np.arange(fine, dtype=np.float32) + 0.5) / SUPERSAMPLE  # sub-pixel centres in image pixels, [fine]
    dx = xs[None, None, :] - cx[:, None, None].astype(np.float32)  # [T, 1, fine]
    dy = xs[None, :, None] - cy[:, None, None].astype(np.float32)  # [T, fine, 1]
    cos = (np.cos(angle) / radius).astype(np.float32)[:, None, None]  # [T, 1, 1]
    sin = (np.sin(angle) / radius).astype(np.float32)[:, None, None]
    u = cos * dx + sin * dy  # template coordinates of every sample, [T, fine, fine]
    v = -sin * dx + cos * dy
    # Template units -> (padded) template pixel index, pixel centres at integers.
    n = TEMPLATE_SIZE
    to_index = n / (2.0 * _TEMPLATE_RADIUS)
    px = np.clip((u + _TEMPLATE_RADIUS) * to_index + 0.5, 0.0, n + 1 - 1e-3)  # [T, fine, fine]
    py = np.clip((v + _TEMPLATE_RADIUS) * to_index + 0.5, 0.0, n + 1 - 1e-3)
    x0, y0 = px.astype(np.int64), py.astype(np.int64)
    fx, fy = px - x0, py - y0
    top = template[y0, x0] * (1 - fx) + template[y0, x0 + 1] * fx
    bottom = template[y0 + 1, x0] * (1 - fx) + template[y0 + 1, x0 + 1] * fx
    sampled = top * (1 - fy) + bottom * fy  # [T, fine, fine]
    T, k = len(cx), SUPERSAMPLE
    return sampled.reshape(T, size, k, size, k).mean(axis=(2, 4), dtype=np.float32)  # [T, H, W]


def _schedule(frames: int, start: int = 0, length: int | None = None) -> np.ndarray:
    """Progress of the motion in each frame, np.ndarray[T] from 0 to 1.

    The motion runs over frames ``start .. start + length - 1`` (default: the whole clip);
    before it the progress is 0 (the start pose), after it 1 (the end pose).
    """
    length = frames if length is None else length
    return np.clip((np.arange(frames) - start) / (length - 1), 0.0, 1.0)


def _trajectory(rng: np.random.Generator, lo: float, hi: float, delta: float, direction: int,
                schedule: np.ndarray) -> np.ndarray:
    """Values of one parameter in each frame, np.ndarray[T], all inside [lo, hi].

    ``direction`` +1 / -1 sweeps ``delta`` up / down following ``schedule`` (see
    :func:`_schedule`); 0 holds the value that a moving parameter has at a random frame, so
    that one frame cannot tell the two apart.
    """
    frames = len(schedule)
    base = lo + rng.random() * (hi - lo - delta)
    if direction == 0:
        phase = np.full(frames, schedule[rng.integers(frames)])
    else:
        phase = schedule  # 0 .. 1
        if direction < 0:
            phase = 1.0 - phase
    return base + phase * delta


MAX_CLIPS = 2**24  # the labels of every clip are one tensor
MAX_CLIP_VALUES = 2**24  # values of one clip (3 x 8 x 32 x 32 is 24,576): each is drawn in Python


class ActionClips(Dataset):
    """Clips of one moving shape; the label says how it moves (see the module docstring).

    Args:
        n: number of clips. Labels cycle through the classes (``label = index % 8``), so the
            classes are balanced.
        frames: frames per clip ``T`` (at least 2). The amount of motion over the whole clip
            does not depend on ``T``; more frames just sample it more finely.
        image_size: side ``H = W`` of each frame in pixels (at least 16).
        seed: seed of the whole dataset; item ``i`` depends only on ``(seed, i)``.
        channels: 3 for colour clips, 1 for grey-level clips.
        action_frames: None (default) for motion over the whole clip; an int ``A`` with
            ``2 <= A <= frames`` for a longer video in which the motion fills only ``A``
            consecutive frames, starting at a random frame (:meth:`action_start`), the shape
            holding still before and after. Each motion step is then that of an ``A``-frame
            clip: the video of test-time window averaging. A single frame still tells
            nothing about the class.

    Items are ``(clip Tensor[C, T, H, W] float32 in [0, 1], label int)``, the layout of
    ``nn.Conv3d`` (and of torchvision's video models); a batch is ``[B, C, T, H, W]``.

    Examples:
        >>> clips = ActionClips(16, frames=4, image_size=24, seed=0)
        >>> clip, label = clips[3]
        >>> clip.shape, clip.dtype, ACTION_CLASSES[label]
        (torch.Size([3, 4, 24, 24]), torch.float32, 'move_down')
        >>> torch.equal(clip, clips[3][0])
        True
        >>> video = ActionClips(4, frames=20, image_size=24, action_frames=8)
        >>> video[0][0].shape, 0 <= video.action_start(0) <= 12
        (torch.Size([3, 20, 24, 24]), True)
    """

    classes = ACTION_CLASSES

    def __init__(self, n: int, frames: int = 8, image_size: int = 32, seed: int = 0, channels: int = 3,
                 action_frames: int | None = None) -> None:
        check_nonnegative_int(n, "n", maximum=MAX_CLIPS)
        check_positive_int(frames, "frames")
        if frames < 2:
            raise ValueError(f"frames must be at least 2 (motion needs two frames), got {frames}")
        check_positive_int(image_size, "image_size")
        if image_size < 16:
            raise ValueError(f"image_size must be at least 16 pixels, got {image_size}")
        check_seed(seed, "seed")
        check_in(channels, "channels", (1, 3))
        if channels * frames * image_size * image_size > MAX_CLIP_VALUES:
            raise ValueError(f"frames x image_size**2 x channels must be at most {MAX_CLIP_VALUES:,} values per clip, "
                             f"got frames={frames}, image_size={image_size}, channels={channels}")
        if action_frames is not None:
            check_positive_int(action_frames, "action_frames")
            if not 2 <= action_frames <= frames:
                raise ValueError(f"action_frames must be between 2 and frames ({frames}), got {action_frames}")
        self.n, self.frames, self.image_size, self.seed, self.channels = n, frames, image_size, seed, channels
        self.action_frames = action_frames
        self.labels = torch.arange(n, dtype=torch.int64) % len(ACTION_CLASSES)  # [n]

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        extra = "" if self.action_frames is None else f", action_frames={self.action_frames}"
        return (
            f"{type(self).__name__}(n={self.n}, frames={self.frames}, image_size={self.image_size}, "
            f"seed={self.seed}, channels={self.channels}{extra})"
        )

    def action_start(self, index: int) -> int:
        """First frame of the motion in item ``index`` (0 when ``action_frames`` is None)."""
        index = check_index(index, self.n, "ActionClips")
        if self.action_frames is None:
            return 0
        # A fourth random stream, used only here: clips without action_frames are unchanged.
        timing_rng = item_rngs(self.seed, index, _SALT, 4)[3]
        return int(timing_rng.integers(self.frames - self.action_frames + 1))

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        index = check_index(index, self.n, "ActionClips")  # numpy / 0-d tensor integers too, never floats
        label = index % len(ACTION_CLASSES)
        return self._render(index, label), label

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Render every clip once: ``(clips Tensor[N, C, T, H, W] float32, labels Tensor[N] int64)``.

        For full-batch work or a ``TensorDataset`` that does not re-render the clips each epoch
        (rendering costs a few milliseconds per clip; 1,000 clips of 3x8x32x32 take ~100 MB).
        """
        shape = (self.channels, self.frames, self.image_size, self.image_size)
        clips = torch.empty((self.n, *shape), dtype=torch.float32)
        for i in range(self.n):
            clips[i] = self._render(i, int(self.labels[i]))
        return clips, self.labels.clone()

    def _render(self, index: int, label: int) -> torch.Tensor:
        """Clip ``index`` as Tensor[C, T, H, W]."""
        # Separate streams for motion, appearance and noise: changing one recipe leaves the others alone.
        rng, look_rng, noise_rng = item_rngs(self.seed, index, _SALT, 3)
        S, T, C = self.image_size, self.frames, self.channels
        moves, turn = _MOTION[ACTION_CLASSES[label]]
        schedule = _schedule(T, self.action_start(index), self.action_frames)  # [T] progress 0 .. 1

        # Size first: the centre range keeps the largest shape fully inside the image.
        log_lo, log_hi = math.log(SIZE_RANGE[0] * S), math.log(SIZE_RANGE[1] * S)
        log_delta = math.log(rng.uniform(*SIZE_CHANGE))
        margin = SIZE_RANGE[1] * S * _TEMPLATE_RADIUS
        c_lo, c_hi = margin, S - margin
        shifts = rng.uniform(*SHIFT_FRACTION, size=2) * (c_hi - c_lo)
        cx = _trajectory(rng, c_lo, c_hi, shifts[0], moves[0], schedule)  # [T]
        cy = _trajectory(rng, c_lo, c_hi, shifts[1], moves[1], schedule)  # [T]
        radius = np.exp(_trajectory(rng, log_lo, log_hi, log_delta, moves[2], schedule))  # [T]
        turn_total = math.radians(rng.uniform(*TURN_DEGREES))
        angle = rng.uniform(0.0, 2.0 * math.pi) + turn * turn_total * schedule  # [T]

        shape = int(look_rng.integers(len(CLIP_SHAPES)))
        colour = hsv_to_rgb(look_rng.random(), look_rng.uniform(0.5, 1.0), look_rng.uniform(*COLOUR_VALUE))  # [3]
        level = look_rng.uniform(*BACKGROUND_LEVEL)
        background = level + TEXTURE_AMPLITUDE * smooth_noise(look_rng, S, cells=4, channels=C)  # [H, W, C]
        noise = FRAME_NOISE * noise_rng.standard_normal((T, S, S, C), dtype=np.float32)  # [T, H, W, C]
        if C == 1:
            colour = colour.max(keepdims=True)  # grey level = HSV value

        coverage = _rasterize(_template(shape), cx, cy, radius, angle, S)  # [T, H, W]
        alpha = coverage[..., None]  # [T, H, W, 1]
        frames = background[None] * (1.0 - alpha) + colour * alpha + noise  # [T, H, W, C]
        clip = torch.from_numpy(np.clip(frames, 0.0, 1.0).astype(np.float32))
        return clip.permute(3, 0, 1, 2).contiguous()  # [T, H, W, C] -> [C, T, H, W]

    def show(self, n: int = 8, seed: int = 0):
        """Plot ``n`` random clips (chosen with ``seed``), one row of frames each, titled by class.

        Returns the matplotlib Figure.
        """
        from course_utils.viz import show_clips

        check_positive_int(n, "n")
        check_nonnegative_int(seed, "seed")
        if len(self) == 0:
            raise ValueError("cannot show an empty dataset (len is 0)")
        pick = np.sort(np.random.default_rng(seed).choice(len(self), size=min(n, len(self)), replace=False))
        clips = [self[int(i)][0] for i in pick]
        return show_clips(clips, titles=[ACTION_CLASSES[int(self.labels[i])] for i in pick], max_frames=self.frames)
