"""Render a sample sheet of every dataset of the course into PNG files.

    .venv/bin/python scripts/sample_sheet.py              # writes build/samples/*.png
    .venv/bin/python scripts/sample_sheet.py --out /tmp/samples --seed 3

One PNG per dataset (digits, photos, shapes, figures, clips) and ``all.png``
with all of them stacked. Everything is drawn with ``course_utils.viz``, so the
sheet is also a visual check of the plotting functions: boxes must sit on the
shapes, masks must cover them, skeletons must follow the limbs and heatmap peaks
must sit on their keypoints.
"""
from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # a script writing files: never open a window

import matplotlib.pyplot as plt  # noqa: E402

from course_utils import viz  # noqa: E402
from course_utils.data import (  # noqa: E402
    ACTION_CLASSES,
    KEYPOINT_NAMES,
    PHOTO_NAMES,
    SHAPE_CLASSES,
    SKELETON,
    ActionClips,
    ArticulatedFigures,
    DigitsDataset,
    ShapesScenes,
    load_photo,
    render_heatmaps,
)

DPI = 100
HEATMAP_KEYPOINTS = ("head", "left_wrist", "right_ankle")  # the maps shown one by one


def digits_sheet(seed: int) -> plt.Figure:
    ds = DigitsDataset("train", normalize=False, seed=seed)
    fig = ds.show(n=16, seed=seed)
    fig.suptitle(f"DigitsDataset('train'): {len(ds)} images, 8x8, titled by label")
    fig.tight_layout()  # again, to make room for the title
    return fig


def photos_sheet() -> plt.Figure:
    photos = [load_photo(name) for name in PHOTO_NAMES]
    titles = [f"{name}\n{p.shape[1]}x{p.shape[2]}" for name, p in zip(PHOTO_NAMES, photos)]
    fig = viz.show_images(photos, titles=titles, ncols=min(len(photos), 6), figsize=(2.4 * min(len(photos), 6), 2.8 * -(-len(photos) // 6)))
    fig.suptitle(f"load_photo(name) for the {len(photos)} PHOTO_NAMES")
    fig.tight_layout()
    return fig


def shapes_sheet(seed: int, n: int = 4) -> plt.Figure:
    ds = ShapesScenes(n, image_size=64, seed=seed)
    fig, axes = plt.subplots(2, n, figsize=(3.0 * n, 7.0), squeeze=False)
    for i in range(n):
        image, target = ds[i]
        caption = "\n".join(textwrap.wrap(target["caption"], 32))
        viz.show_detections(image, target["boxes"], target["labels"], class_names=SHAPE_CLASSES, ax=axes[0, i],
                            title=caption)
        axes[1, i].imshow(viz.to_display(image), interpolation="nearest")
        viz.overlay_mask(axes[1, i], target["semantic"], num_classes=len(SHAPE_CLASSES), alpha=0.6)
        axes[1, i].set_title(f"semantic mask, {len(target['masks'])} instance masks", fontsize=8)
        axes[1, i].set_xticks([])
        axes[1, i].set_yticks([])
    fig.suptitle("ShapesScenes: boxes, labels and captions (top); semantic masks (bottom)")
    fig.tight_layout()
    return fig


def figures_sheet(seed: int, n: int = 4) -> plt.Figure:
    ds = ArticulatedFigures(n, image_size=64, seed=seed)
    ncols = max(n, 1 + len(HEATMAP_KEYPOINTS))
    fig, axes = plt.subplots(2, ncols, figsize=(3.0 * ncols, 6.2), squeeze=False)
    for i in range(n):
        image, target = ds[i]
        kp = target["keypoints"]
        axes[0, i].imshow(viz.to_display(image), interpolation="nearest")
        viz.draw_keypoints(axes[0, i], kp, skeleton=SKELETON)
        axes[0, i].set_title(f"#{i}: {int((kp[:, 2] == 0).sum())} occluded", fontsize=8)
    image, target = ds[0]
    size = tuple(image.shape[-2:])
    maps = render_heatmaps(target["keypoints"], size, sigma=1.0, stride=4, include_occluded=True)  # [K, H/4, W/4]
    chosen = [KEYPOINT_NAMES.index(name) for name in HEATMAP_KEYPOINTS]
    panels = [("all keypoints (max), stride 4", maps.amax(dim=0))] + [(KEYPOINT_NAMES[k], maps[k]) for k in chosen]
    for ax, (title, m) in zip(axes[1], panels):
        ax.imshow(viz.to_display(image), interpolation="nearest")
        s = size[1] // m.shape[1]
        ax.imshow(m.numpy(), cmap="magma", alpha=0.6, extent=(-0.5, m.shape[1] * s - 0.5, m.shape[0] * s - 0.5, -0.5))
        ax.set_title(f"#0 heatmap: {title}", fontsize=8)
    for k in chosen:  # the keypoint itself, to check the peak sits on it
        x, y, _ = target["keypoints"][k].tolist()
        axes[1, 1 + chosen.index(k)].plot([x], [y], "c+", markersize=10)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
        if not ax.get_images():
            ax.set_axis_off()
    fig.suptitle("ArticulatedFigures: skeletons (top); heatmaps of figure #0, '+' = true keypoint (bottom)")
    fig.tight_layout()
    return fig


def clips_sheet(seed: int) -> plt.Figure:
    ds = ActionClips(64, frames=8, image_size=32, seed=seed)
    # one clip of each class, in class order
    first = {}
    for i in range(len(ds)):
        first.setdefault(int(ds[i][1]), i)
    order = [first[c] for c in sorted(first)]
    fig = viz.show_clips([ds[i][0] for i in order], titles=[ACTION_CLASSES[int(ds[i][1])] for i in order])
    fig.suptitle("ActionClips: one clip per class, 8 frames each (left to right)")
    fig.tight_layout()
    return fig


def combine(paths: list[Path], out: Path) -> None:
    """Stack the PNGs vertically into one image (each scaled to the widest)."""
    images = [plt.imread(p)[..., :3] for p in paths]
    width = max(im.shape[1] for im in images)
    heights = [im.shape[0] * width / im.shape[1] for im in images]
    fig = plt.figure(figsize=(width / DPI, sum(heights) / DPI), dpi=DPI)
    top = 1.0
    for im, h in zip(images, heights):
        frac = h / sum(heights)
        ax = fig.add_axes((0.0, top - frac, 1.0, frac))
        ax.imshow(im, interpolation="antialiased")
        ax.set_axis_off()
        top -= frac
    fig.savefig(out, dpi=DPI)
    plt.close(fig)


def main(argv: list[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("build/samples"), help="output folder")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    sheets = {
        "digits": lambda: digits_sheet(args.seed),
        "photos": photos_sheet,
        "shapes": lambda: shapes_sheet(args.seed),
        "figures": lambda: figures_sheet(args.seed),
        "clips": lambda: clips_sheet(args.seed),
    }
    paths = []
    for name, make in sheets.items():
        fig = make()
        path = args.out / f"{name}.png"
        fig.savefig(path, dpi=DPI, bbox_inches="tight")
        plt.close(fig)
        paths.append(path)
        print(f"wrote {path}")
    combined = args.out / "all.png"
    combine(paths, combined)
    print(f"wrote {combined}")
    return paths + [combined]


if __name__ == "__main__":
    main()
