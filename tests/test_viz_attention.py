"""Tests of course_utils.viz.attention: the figures build, with the right number of panels."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_utils.viz import attention as VA  # noqa: E402


def test_caption_attention_panels():
    fig = VA.show_caption_attention(torch.rand(3, 32, 32), ["a", "red", "star", "."], torch.rand(4, 64), ncols=3)
    assert sum(ax.get_title() != "" for ax in fig.axes) == 5
    plt.close(fig)
    with pytest.raises(ValueError):
        VA.show_caption_attention(torch.rand(3, 32, 32), ["a"], torch.rand(2, 64))


def test_attention_maps_figure_and_draw():
    fig = VA.show_attention_maps(torch.rand(5, 1, 16, 16), torch.rand(5, 16), titles=list("abcde"), ncols=3)
    assert len(fig.axes) == 12
    plt.close(fig)
    fig, ax = plt.subplots()
    overlay = VA.draw_attention(ax, torch.rand(3, 8, 8), torch.zeros(2, 2))
    assert overlay.get_array().shape == (2, 2)
    plt.close(fig)
    with pytest.raises(ValueError):
        VA.draw_attention(ax, torch.rand(3, 8, 8), torch.rand(5))


def test_caption_attention_one_row_per_head():
    fig = VA.show_caption_attention(torch.rand(3, 32, 32), ["a", "star", "."], torch.rand(2, 3, 64))
    assert len(fig.axes) == 8 and [ax.get_title() for ax in fig.axes][::4] == ["head 1", "head 2"]
    plt.close(fig)
