"""The notebook test helpers: clear messages, strict types, forbidden calls."""
import pytest
import torch
import torch.nn.functional as F

from course_utils import conv, grading, runtime
from course_utils.checks import check_tensor


class AlwaysEqual(torch.Tensor):
    def __eq__(self, other):  # the classic fake pass
        return True


def test_expect_close_names_the_difference():
    a = torch.zeros(2, 3)
    b = a.clone()
    b[1, 2] = 0.5
    with pytest.raises(AssertionError, match=r"index \(1, 2\).*expected 0.5"):
        grading.expect_close(a, b, "conv output")
    with pytest.raises(AssertionError, match="shape"):
        grading.expect_close(torch.zeros(3), b, "conv output")
    grading.expect_close(b.clone(), b, "conv output")


def test_expect_close_rejects_fakes_and_nans():
    fake = torch.zeros(2).as_subclass(AlwaysEqual)
    with pytest.raises(AssertionError, match="torch.Tensor"):
        grading.expect_close(fake, torch.ones(2), "x")
    with pytest.raises(AssertionError):
        grading.expect_close(torch.tensor([float("nan")]), torch.tensor([1.0]), "x")
    with pytest.raises(AssertionError, match="torch.Tensor"):
        grading.expect_close([1.0, 2.0], torch.ones(2), "x")


def test_expect_equal_is_strict_about_types():
    grading.expect_equal((28, 28, 6), (28, 28, 6), "shape")
    with pytest.raises(AssertionError, match="int"):
        grading.expect_equal(380.0, 380, "params")
    with pytest.raises(AssertionError, match="True or False"):
        grading.expect_equal(1, True, "fits")
    with pytest.raises(AssertionError, match="not right"):
        grading.expect_equal(379, 380, "params")
    with pytest.raises(AssertionError, match=r"shape\[2\]"):
        grading.expect_equal((28, 28, 5), (28, 28, 6), "shape")


def test_expect_raises():
    grading.expect_raises(lambda: conv.conv_output_size(7, 3, 3), ValueError, "stride 3 on 7")
    with pytest.raises(AssertionError, match="returned normally"):
        grading.expect_raises(lambda: 1, ValueError, "f()")
    with pytest.raises(AssertionError, match="raised NotImplementedError"):
        grading.expect_raises(lambda: (_ for _ in ()).throw(NotImplementedError()), ValueError, "f()")


def test_forbid_catches_aliases_and_modules():
    from torch.nn.functional import conv2d as alias

    x, w = torch.randn(1, 1, 5, 5), torch.randn(1, 1, 3, 3)
    for call in (lambda: alias(x, w), lambda: torch.nn.Conv2d(1, 1, 3)(x), lambda: conv.conv2d_loop(x, w)):
        with pytest.raises(AssertionError, match="write the computation yourself"):
            with grading.forbid("torch.nn.functional.conv2d", conv.conv2d_loop, exercise="conv2d_loops"):
                call()
    with grading.forbid("torch.nn.functional.conv2d"):
        F.relu(x)  # allowed


def test_checks_messages():
    with pytest.raises(ValueError, match=r"shape \[\*, 4\], got \[2, 3\]"):
        check_tensor(torch.zeros(2, 3), "boxes", shape=(None, 4))
    with pytest.raises(TypeError, match="torch.Tensor"):
        check_tensor([1, 2], "boxes")


def test_budget_follows_quick_mode(monkeypatch):
    monkeypatch.setenv(runtime.QUICK_ENV, "1")
    assert runtime.budget(full=10, quick=1) == 1
    monkeypatch.setenv(runtime.QUICK_ENV, "0")
    assert runtime.budget(full=10, quick=1) == 10
    assert runtime.get_device("cpu").type == "cpu"


def test_report_writes_a_record(tmp_path, monkeypatch, capsys):
    path = tmp_path / "r.jsonl"
    monkeypatch.setenv(runtime.REPORT_ENV, str(path))
    runtime.report("acc", 0.98, target=0.97)
    assert "met" in capsys.readouterr().out
    assert '"acc"' in path.read_text()
