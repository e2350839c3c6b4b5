import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from course_utils import viz  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _images(ax):
    return [a for a in ax.get_children() if isinstance(a, AxesImage)]


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


# ------------------------------------------------------------------ to_display / denormalize


class TestToDisplay:
    def test_chw_to_hwc_and_gray(self):
        assert viz.to_display(torch.rand(3, 4, 5)).shape == (4, 5, 3)
        assert viz.to_display(torch.rand(1, 4, 5)).shape == (4, 5)
        assert viz.to_display(torch.rand(4, 5)).shape == (4, 5)

    def test_numpy_hwc_and_uint8(self):
        arr = np.full((4, 5, 3), 255, dtype=np.uint8)
        out = viz.to_display(arr)
        assert out.shape == (4, 5, 3)
        np.testing.assert_allclose(out, 1.0)
        assert viz.to_display(np.random.rand(3, 8, 8)).shape == (8, 8, 3)  # [C, H, W] array

    def test_auto_rescale_only_outside_unit_range(self):
        x = torch.tensor([[0.2, 0.4]])
        np.testing.assert_allclose(viz.to_display(x), [[0.2, 0.4]], atol=1e-6)
        np.testing.assert_allclose(viz.to_display(x, rescale=True), [[0.0, 1.0]], atol=1e-6)
        np.testing.assert_allclose(viz.to_display(torch.tensor([[-1.0, 3.0]])), [[0.0, 1.0]], atol=1e-6)
        np.testing.assert_allclose(viz.to_display(torch.tensor([[-1.0, 3.0]]), rescale=False), [[0.0, 1.0]])

    def test_mean_std_undo_normalization_exactly(self):
        img = torch.rand(3, 6, 6)
        mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
        normed = (img - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]
        np.testing.assert_allclose(viz.to_display(normed, mean=mean, std=std), img.permute(1, 2, 0).numpy(), atol=1e-5)
        back = viz.denormalize(normed[None], mean, std)
        torch.testing.assert_close(back[0], img)

    def test_does_not_modify_input_and_accepts_grad(self):
        x = torch.randn(3, 4, 4, requires_grad=True)
        before = x.detach().clone()
        viz.to_display(x)
        torch.testing.assert_close(x.detach(), before)

    def test_errors(self):
        with pytest.raises(ValueError, match="channels"):
            viz.to_display(torch.rand(5, 4, 4))
        with pytest.raises(ValueError, match=r"\[C, H, W\]"):
            viz.to_display(torch.rand(2, 3, 4, 4))
        with pytest.raises(TypeError, match="Tensor"):
            viz.to_display("image.png")
        with pytest.raises(ValueError, match="rescale"):
            viz.to_display(torch.rand(4, 4), rescale="yes")
        with pytest.raises(ValueError, match="3 values"):
            viz.denormalize(torch.rand(3, 4, 4), mean=[0.1, 0.2], std=[1.0])


# ------------------------------------------------------------------ images


class TestShowImages:
    @pytest.mark.parametrize(
        "images",
        [torch.rand(5, 3, 8, 8), torch.rand(5, 1, 8, 8), torch.rand(5, 8, 8), [torch.rand(3, 8, 8)] * 5,
         [np.random.rand(8, 8, 3)] * 5],
    )
    def test_one_axes_and_image_per_input(self, images):
        fig = viz.show_images(images, titles=[f"t{i}" for i in range(5)], ncols=3)
        assert isinstance(fig, Figure)
        assert len(fig.axes) == 5
        assert all(len(_images(ax)) == 1 for ax in fig.axes)
        assert [ax.get_title() for ax in fig.axes] == ["t0", "t1", "t2", "t3", "t4"]

    def test_grid_layout(self):
        fig = viz.show_images(torch.rand(10, 1, 4, 4), ncols=4)
        rows = {ax.get_subplotspec().rowspan.start for ax in fig.axes}
        cols = {ax.get_subplotspec().colspan.start for ax in fig.axes}
        assert rows == {0, 1, 2} and cols == {0, 1, 2, 3}

    def test_gray_images_use_gray_cmap_and_fixed_range(self):
        fig = viz.show_images(torch.rand(2, 1, 4, 4))
        im = _images(fig.axes[0])[0]
        assert im.get_cmap().name == "gray"
        assert im.get_clim() == (0.0, 1.0)

    def test_empty(self):
        fig = viz.show_images(torch.zeros(0, 3, 8, 8))
        assert isinstance(fig, Figure) and len(fig.axes) == 0

    def test_errors(self):
        with pytest.raises(ValueError, match="one entry per image"):
            viz.show_images(torch.rand(3, 1, 4, 4), titles=["a"])
        with pytest.raises(ValueError, match=r"\[N, C, H, W\]"):
            viz.show_images(torch.rand(4, 4))
        with pytest.raises(ValueError, match="positive"):
            viz.show_images(torch.rand(2, 4, 4), ncols=0)


def test_show_clips_frame_strips():
    fig = viz.show_clips(torch.rand(2, 3, 12, 8, 8), titles=["wave", "jump"], max_frames=4)
    assert len(fig.axes) == 2 * 4
    assert fig.axes[0].get_title(loc="left") == "wave" and fig.axes[4].get_title(loc="left") == "jump"
    assert [ax.get_xlabel() for ax in fig.axes[:4]] == ["t=0", "t=4", "t=7", "t=11"]
    assert len(viz.show_clips(torch.rand(3, 5, 8, 8)).axes) == 5  # one clip [C, T, H, W]
    with pytest.raises(ValueError, match=r"\[C, T, H, W\]"):
        viz.show_clips(torch.rand(8, 8))


def test_show_filters_rgb_and_gray():
    fig = viz.show_filters(torch.randn(6, 3, 5, 5), ncols=3)
    assert len(fig.axes) == 6
    assert _images(fig.axes[0])[0].get_array().shape == (5, 5, 3)
    fig = viz.show_filters(torch.randn(100, 16, 3, 3), max_filters=10)
    assert len(fig.axes) == 10
    assert _images(fig.axes[0])[0].get_array().shape == (3, 3)
    with pytest.raises(ValueError, match="4-dimensional"):
        viz.show_filters(torch.randn(6, 5, 5))
    with pytest.raises(ValueError, match="channel"):
        viz.show_filters(torch.randn(6, 2, 5, 5), channel=2)


# ------------------------------------------------------------------ detection


class TestBoxes:
    boxes = torch.tensor([[2.0, 3.0, 10.0, 12.0], [20.0, 5.0, 30.0, 9.5]])
    labels = torch.tensor([1, 3])
    scores = torch.tensor([0.91, 0.456])
    names = ("background", "circle", "square", "triangle")

    def test_draw_boxes_patches_and_captions(self):
        fig, ax = plt.subplots()
        patches = viz.draw_boxes(ax, self.boxes, self.labels, self.scores, class_names=self.names)
        rects = [p for p in ax.patches if isinstance(p, Rectangle)]
        assert len(patches) == len(rects) == 2
        # xyxy -> (x, y, width, height)
        assert rects[1].get_xy() == (20.0, 5.0)
        assert rects[1].get_width() == pytest.approx(10.0) and rects[1].get_height() == pytest.approx(4.5)
        assert [t.get_text() for t in ax.texts] == ["circle 0.91", "triangle 0.46"]
        # colours follow the label
        assert rects[0].get_edgecolor()[:3] == pytest.approx(viz.class_color(1))

    def test_labels_without_names_and_scores_only(self):
        fig, ax = plt.subplots()
        viz.draw_boxes(ax, self.boxes, labels=self.labels)
        assert [t.get_text() for t in ax.texts] == ["1", "3"]
        fig, ax = plt.subplots()
        viz.draw_boxes(ax, self.boxes.numpy(), scores=self.scores, color="red")
        assert [t.get_text() for t in ax.texts] == ["0.91", "0.46"]

    def test_empty_boxes(self):
        fig, ax = plt.subplots()
        assert viz.draw_boxes(ax, torch.zeros(0, 4), torch.zeros(0, dtype=torch.long)) == []
        assert len(ax.patches) == 0

    def test_errors(self):
        fig, ax = plt.subplots()
        with pytest.raises(ValueError, match=r"shape \[\*, 4\]"):
            viz.draw_boxes(ax, torch.zeros(2, 5))
        with pytest.raises(ValueError, match="one entry per box"):
            viz.draw_boxes(ax, self.boxes, labels=torch.tensor([1]))
        with pytest.raises(ValueError, match="out of range"):
            viz.draw_boxes(ax, self.boxes, labels=torch.tensor([1, 7]), class_names=self.names)

    def test_show_detections_threshold_and_ground_truth(self):
        image = torch.rand(3, 32, 32)
        fig = viz.show_detections(image, self.boxes, self.labels, self.scores, class_names=self.names,
                                  score_threshold=0.5, gt_boxes=self.boxes, gt_labels=self.labels, title="pred")
        ax = fig.axes[0]
        assert len(fig.axes) == 1 and len(_images(ax)) == 1
        assert len(ax.patches) == 2 + 1  # 2 ground-truth + 1 prediction above the threshold
        assert "circle 0.91" in _texts(fig) and "triangle 0.46" not in _texts(fig)
        assert sum(p.get_linestyle() == "--" for p in ax.patches) == 2

    def test_show_detections_puts_boxes_on_pixel_edges(self):
        fig = viz.show_detections(torch.rand(3, 20, 30), torch.tensor([[0.0, 0.0, 30.0, 20.0]]))
        ax = fig.axes[0]
        assert _images(ax)[0].get_extent() == [0, 30, 20, 0]  # pixel c spans [c, c + 1)
        assert ax.patches[0].get_width() == 30.0  # the whole-image box covers the whole image

    def test_show_detections_into_given_axes(self):
        fig, axes = plt.subplots(1, 2)
        out = viz.show_detections(torch.rand(3, 16, 16), self.boxes, ax=axes[1])
        assert out is fig and len(axes[1].patches) == 2 and len(axes[0].patches) == 0


# ------------------------------------------------------------------ segmentation


class TestSegmentation:
    mask = torch.tensor([[0, 0, 1, 1], [0, 2, 2, 1], [0, 0, 0, 0], [3, 3, 0, 0]])

    def test_overlay_colours_and_transparent_background(self):
        fig, ax = plt.subplots()
        im = viz.overlay_mask(ax, self.mask, alpha=0.4)
        rgba = im.get_array()
        assert rgba.shape == (4, 4, 4)
        assert rgba[0, 0, 3] == 0.0  # background invisible
        assert rgba[0, 2, 3] == pytest.approx(0.4)
        np.testing.assert_allclose(rgba[1, 1, :3], viz.class_color(2), atol=1e-6)

    def test_overlay_takes_the_extent_of_the_image(self):
        fig, ax = plt.subplots()
        ax.imshow(np.zeros((4, 4)), extent=(0, 4, 4, 0))
        assert viz.overlay_mask(ax, self.mask).get_extent() == [0, 4, 4, 0]
        fig, ax = plt.subplots()
        assert viz.overlay_mask(ax, self.mask).get_extent() == [-0.5, 3.5, 3.5, -0.5]  # imshow's default

    def test_overlay_bool_and_instance_masks(self):
        fig, ax = plt.subplots()
        inst = torch.zeros(2, 4, 4, dtype=torch.bool)
        inst[0, :2] = True
        inst[1, 1:3] = True  # overlaps instance 0 on row 1: the later instance wins
        rgba = viz.overlay_mask(ax, inst).get_array()
        np.testing.assert_allclose(rgba[0, 0, :3], viz.class_color(1), atol=1e-6)
        np.testing.assert_allclose(rgba[1, 0, :3], viz.class_color(2), atol=1e-6)
        assert rgba[3, 0, 3] == 0.0
        assert viz.overlay_mask(ax, torch.ones(3, 3, dtype=torch.bool)).get_array()[0, 0, 3] > 0

    def test_overlay_errors(self):
        fig, ax = plt.subplots()
        with pytest.raises(ValueError, match="num_classes"):
            viz.overlay_mask(ax, self.mask, num_classes=3)
        with pytest.raises(TypeError, match="integer or bool"):
            viz.overlay_mask(ax, torch.rand(4, 4))
        with pytest.raises(ValueError, match=">= 0"):
            viz.overlay_mask(ax, torch.tensor([[-1, 0]]))

    def test_show_segmentation_panels_and_legend(self):
        names = ["background", "circle", "square", "triangle"]
        pred_logits = torch.randn(4, 4, 4)
        fig = viz.show_segmentation(torch.rand(3, 4, 4), self.mask, pred=pred_logits, class_names=names)
        assert [ax.get_title() for ax in fig.axes] == ["image", "ground truth", "prediction"]
        assert len(_images(fig.axes[0])) == 1 and len(_images(fig.axes[1])) == 2
        legend = fig.axes[-1].get_legend()
        labels = [t.get_text() for t in legend.get_texts()]
        assert {"circle", "square", "triangle"} <= set(labels) and "background" not in labels
        assert len(viz.show_segmentation(torch.rand(3, 4, 4), self.mask).axes) == 2

    def test_show_segmentation_shape_mismatch(self):
        with pytest.raises(ValueError, match="shape of mask"):
            viz.show_segmentation(torch.rand(3, 4, 4), self.mask, pred=torch.zeros(5, 5, dtype=torch.long))


# ------------------------------------------------------------------ keypoints


class TestKeypoints:
    kp = torch.tensor([[5.0, 5.0, 1.0], [10.0, 5.0, 1.0], [10.0, 10.0, 0.0], [5.0, 10.0, 1.0]])
    skeleton = [(0, 1), (1, 2), (2, 3), (3, 0)]
    names = ["a", "b", "c", "d"]

    def test_edges_only_between_visible_points(self):
        fig, ax = plt.subplots()
        viz.draw_keypoints(ax, self.kp, skeleton=self.skeleton, names=self.names)
        assert len(ax.lines) == 2  # (0, 1) and (3, 0): both others touch the hidden point 2
        xs = sorted(tuple(line.get_xdata()) for line in ax.lines)
        assert xs == [(5.0, 5.0), (5.0, 10.0)]
        dots = [c for c in ax.collections if isinstance(c, PathCollection)]
        assert len(dots) == 1 and len(dots[0].get_offsets()) == 3
        assert [t.get_text() for t in ax.texts] == ["a", "b", "d"]

    def test_two_columns_and_several_people(self):
        fig, ax = plt.subplots()
        viz.draw_keypoints(ax, self.kp[:, :2], skeleton=self.skeleton)
        assert len(ax.lines) == 4
        fig, ax = plt.subplots()
        viz.draw_keypoints(ax, torch.stack([self.kp, self.kp]), skeleton=self.skeleton)
        assert len(ax.lines) == 4 and len(ax.collections) == 2

    def test_errors(self):
        fig, ax = plt.subplots()
        with pytest.raises(ValueError, match="outside"):
            viz.draw_keypoints(ax, self.kp, skeleton=[(0, 9)])
        with pytest.raises(ValueError, match="one entry per keypoint"):
            viz.draw_keypoints(ax, self.kp, names=["a"])
        with pytest.raises(ValueError, match=r"\[K, 3\]"):
            viz.draw_keypoints(ax, torch.zeros(4, 5))

    def test_show_heatmaps_over_image(self):
        hm = torch.zeros(3, 8, 8)
        hm[0, 2, 6] = 1.0
        fig = viz.show_heatmaps(hm, image=torch.rand(3, 32, 32), names=["x", "y", "z"], combined=True)
        assert [ax.get_title() for ax in fig.axes] == ["x", "y", "z", "all (max)"]
        ims = _images(fig.axes[0])
        assert len(ims) == 2  # the image and the heatmap on top
        assert ims[1].get_extent() == [-0.5, 31.5, 31.5, -0.5]  # the 8x8 map covers the 32x32 image
        np.testing.assert_allclose(np.asarray(_images(fig.axes[3])[1].get_array()), hm.amax(0).numpy())

    def test_show_heatmaps_alone_and_errors(self):
        fig = viz.show_heatmaps(torch.rand(2, 8, 8))
        assert len(fig.axes) == 2 and all(len(_images(ax)) == 1 for ax in fig.axes)
        with pytest.raises(ValueError, match="3-dimensional"):
            viz.show_heatmaps(torch.rand(8, 8))


# ------------------------------------------------------------------ curves and matrices


class TestHistory:
    hist = {
        "epoch": [1, 2, 3],
        "train_loss": [1.0, 0.6, 0.4],
        "val_loss": [1.1, 0.8, 0.7],
        "train_accuracy": [0.5, 0.7, 0.8],
        "val_accuracy": [0.45, 0.6, 0.7],
        "lr": [0.1, 0.1, 0.01],
        "epoch_time": [1.0, 1.0, 1.0],
    }

    def test_panels_and_lines(self):
        fig = viz.plot_history(self.hist)
        assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
        loss_ax = fig.axes[0]
        assert [line.get_label() for line in loss_ax.lines] == ["train", "val"]
        np.testing.assert_allclose(loss_ax.lines[1].get_ydata(), self.hist["val_loss"])
        np.testing.assert_allclose(loss_ax.lines[1].get_xdata(), [1, 2, 3])

    def test_selected_metrics_and_lr(self):
        fig = viz.plot_history(self.hist, metrics=["lr"])
        assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 1
        with pytest.raises(ValueError, match="no values for 'iou'"):
            viz.plot_history(self.hist, metrics=["iou"])

    def test_accepts_history_objects(self):
        class Hist:
            def as_dict(self):
                return {"train_loss": [3.0, 2.0]}

        assert len(viz.plot_history(Hist()).axes[0].lines) == 1
        with pytest.raises(TypeError, match="History or a mapping"):
            viz.plot_history([1, 2, 3])

    def test_plot_curves(self):
        fig = viz.plot_curves([1, 10, 100], {"a": [1, 2, 3], "b": np.array([3, 2, 1])}, logx=True, title="t")
        ax = fig.axes[0]
        assert [line.get_label() for line in ax.lines] == ["a", "b"] and ax.get_xscale() == "log"
        with pytest.raises(ValueError, match="must have 3 values"):
            viz.plot_curves([1, 2, 3], {"a": [1, 2]})


class TestConfusionMatrix:
    cm = torch.tensor([[5, 1, 0], [2, 7, 1], [0, 0, 0]])

    def test_counts(self):
        fig = viz.plot_confusion_matrix(self.cm, class_names=["cat", "dog", "bird"])
        ax = fig.axes[0]
        assert len(fig.axes) == 2  # the matrix and its colorbar
        assert [t.get_text() for t in ax.texts] == ["5", "1", "0", "2", "7", "1", "0", "0", "0"]
        assert [t.get_text() for t in ax.get_yticklabels()] == ["cat", "dog", "bird"]
        assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"

    def test_normalize_rows_with_an_empty_row(self):
        fig = viz.plot_confusion_matrix(self.cm.numpy(), normalize=True)
        texts = [t.get_text() for t in fig.axes[0].texts]
        assert texts[:3] == ["0.83", "0.17", "0.00"] and texts[-3:] == ["0.00", "0.00", "0.00"]
        assert _images(fig.axes[0])[0].get_clim() == (0.0, 1.0)

    def test_errors_and_no_annotation(self):
        with pytest.raises(ValueError, match="square"):
            viz.plot_confusion_matrix(torch.zeros(2, 3))
        with pytest.raises(ValueError, match="3 entries"):
            viz.plot_confusion_matrix(self.cm, class_names=["a"])
        assert len(viz.plot_confusion_matrix(torch.eye(30)).axes[0].texts) == 0


def test_no_figure_is_shown_and_palette_is_stable(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("library code must not call plt.show()")

    monkeypatch.setattr(plt, "show", fail)
    viz.show_images(torch.rand(2, 3, 4, 4))
    viz.plot_history({"train_loss": [1.0]})
    assert viz.class_colors(3) == [viz.class_color(0), viz.class_color(1), viz.class_color(2)]
    assert len(set(viz.class_colors(10))) == 10
