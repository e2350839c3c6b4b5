"""Flow colours and arrows, 3D filters as clips (course_utils.viz.flow)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_utils.viz import flow as vf  # noqa: E402


def test_flow_colours_follow_direction_and_speed():
    directions = torch.tensor([[1.0, 0.0, -1.0, 0.0, 0.0], [0.0, 1.0, 0.0, -1.0, 0.0]])[:, None, :]  # [2, 1, 5]
    rgb = vf.flow_to_color(directions)
    assert rgb.shape == (1, 5, 3)
    np.testing.assert_allclose(rgb[0, 0], [1.0, 0.0, 0.0], atol=1e-9)  # right: red
    np.testing.assert_allclose(rgb[0, 2], [0.0, 1.0, 1.0], atol=1e-9)  # left: cyan
    np.testing.assert_allclose(rgb[0, 4], [0.0, 0.0, 0.0])  # still: black
    half = vf.flow_to_color(directions * 0.5, max_magnitude=1.0)
    np.testing.assert_allclose(half[0, 0], [0.5, 0.0, 0.0], atol=1e-9)
    assert vf.flow_to_color(torch.zeros(2, 3, 3)).max() == 0
    wheel = vf.color_wheel(9)
    assert wheel.shape == (9, 9, 3) and (wheel[0, 0] == 1).all()


def test_arrows_point_where_pixels_go():
    fig, ax = plt.subplots()
    ax.imshow(np.zeros((6, 6)))
    flow = torch.zeros(2, 6, 6)
    flow[1] = 1.0  # everything moves down by one pixel
    quiver = vf.draw_flow(ax, flow, step=2)
    assert len(quiver.U) == 9 and np.allclose(quiver.V, 1.0) and np.allclose(quiver.U, 0.0)
    assert len(vf.draw_flow(ax, flow, step=2, min_magnitude=2.0).U) == 0
    plt.close(fig)


def test_show_flow_and_filters():
    fig = vf.show_flow(torch.rand(2, 3, 8, 8), torch.randn(2, 2, 8, 8), titles=["a", "b"])
    assert len(fig.axes) == 4
    plt.close(fig)
    fig = vf.show_flow([torch.rand(8, 8)], torch.randn(1, 2, 8, 8), color_row=False)
    assert len(fig.axes) == 1
    plt.close(fig)
    fig = vf.show_filters3d(torch.randn(10, 3, 3, 3, 3), max_filters=4)
    assert len(fig.axes) == 12
    plt.close(fig)
    fig = vf.show_filters3d(torch.randn(2, 5, 2, 3, 3), channel=4)
    assert len(fig.axes) == 4
    plt.close(fig)


@pytest.mark.parametrize("call,error", [
    (lambda: vf.flow_to_color(torch.zeros(3, 4, 4)), ValueError),
    (lambda: vf.flow_to_color(np.zeros((2, 4, 4))), TypeError),
    (lambda: vf.show_flow(torch.rand(2, 3, 8, 8), torch.randn(3, 2, 8, 8)), ValueError),
    (lambda: vf.show_filters3d(torch.randn(2, 3, 3, 3)), ValueError),
    (lambda: vf.show_filters3d(torch.randn(2, 3, 3, 3, 3), channel=3), ValueError),
])
def test_errors(call, error):
    with pytest.raises(error):
        call()
    plt.close("all")
