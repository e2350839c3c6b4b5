"""The notebook test helpers: clear messages, strict types, forbidden calls."""
import pytest
import torch
import torch.nn.functional as F

from course_utils import grading, runtime
from course_utils.ops import conv
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


def test_expect_equal_follows_the_fair_tests_policy():
    """Any real number (int, float, numpy scalar, 0-d tensor), tuple or list: converted first."""
    import numpy as np

    grading.expect_equal((28, 28, 6), (28, 28, 6), "shape")
    grading.expect_equal([28, 28, 6], (28, 28, 6), "shape (a list where a tuple was written)")
    grading.expect_equal(torch.Size([28, 28, 6]), (28, 28, 6), "shape (a torch.Size)")
    grading.expect_equal(380.0, 380, "params")          # a float that equals the int
    grading.expect_equal(np.int64(380), 380, "params")
    grading.expect_equal(torch.tensor(380), 380, "params")
    # The chapter-05 case: float32 cumsum / arange gives an AP off by 1e-8 relative.
    grading.expect_equal(np.float32(0.6142857074737549), 0.6142857142857143, "AP")
    grading.expect_equal(torch.tensor(0.6142857074737549), 0.6142857142857143, "AP")
    grading.expect_equal(np.float64(0.6142857142857143), 0.6142857142857143, "AP")
    grading.expect_equal(np.bool_(True), True, "fits")
    grading.expect_equal(torch.tensor(False), False, "fits")
    with pytest.raises(AssertionError, match="should be an int"):
        grading.expect_equal(380.0, 380, "params", integer=True)
    with pytest.raises(AssertionError, match="True or False"):
        grading.expect_equal(1, True, "fits")
    with pytest.raises(AssertionError, match="got 379, expected 380"):
        grading.expect_equal(379, 380, "params")
    with pytest.raises(AssertionError, match=r"shape\[2\]: got 5, expected 6"):
        grading.expect_equal((28, 28, 5), (28, 28, 6), "shape")
    with pytest.raises(AssertionError, match="should be a number"):
        grading.expect_equal("380", 380, "params")
    with pytest.raises(AssertionError, match="should be a number"):
        grading.expect_equal(torch.ones(2), 1.0, "ap")


def test_as_number_and_as_numbers_check_kinds_without_values():
    import numpy as np

    assert grading.as_number(np.int64(380), "params", integer=True) == 380
    assert grading.as_numbers(torch.Size([28, 28, 6]), "shape", length=3, integer=True) == [28, 28, 6]
    assert grading.as_numbers([np.int64(1), torch.tensor(2.5)], "pair") == [1, 2.5]
    with pytest.raises(AssertionError, match="should be an int"):
        grading.as_number(10.0, "size", integer=True)
    with pytest.raises(AssertionError, match="should have 3 values"):
        grading.as_numbers([1, 2], "shape", length=3)
    with pytest.raises(AssertionError, match="sequence"):
        grading.as_numbers(torch.tensor([1, 2]), "shape")
    with pytest.raises(AssertionError, match=r"shape\[1\] should be a number"):
        grading.as_numbers([1, "2"], "shape")
    assert grading.as_bool(np.bool_(True), "fits") is True
    with pytest.raises(AssertionError, match="True or False"):
        grading.as_bool(0, "fits")


def test_nan_matches_an_expected_nan():
    grading.expect_equal(float("nan"), float("nan"), "mean_iou of an empty matrix")
    grading.expect_equal(torch.tensor(float("nan")), float("nan"), "top-k of an empty batch")
    with pytest.raises(AssertionError, match="expected nan"):
        grading.expect_equal(0.0, float("nan"), "mean_iou")
    with pytest.raises(AssertionError, match="is nan"):
        grading.expect_equal(float("nan"), 0.5, "mean_iou")


def test_expect_equal_shows_digits_that_differ():
    with pytest.raises(AssertionError, match=r"got 0\.5740140012, expected 0\.574014"):
        grading.expect_equal(0.574014 + 1.2e-9, 0.574014, "IoU", rel_tol=1e-12, abs_tol=0)


def test_expect_equal_refuses_fakes():
    class Liar(float):
        def __eq__(self, other):
            return True
    fake = torch.zeros(()).as_subclass(AlwaysEqual)
    with pytest.raises(AssertionError, match="should be a number"):
        grading.expect_equal(Liar(1.0), 2.0, "x")
    with pytest.raises(AssertionError, match="should be a number"):
        grading.expect_equal(fake, 2.0, "x")

    class LiarList(list):
        pass
    with pytest.raises(AssertionError, match="sequence"):
        grading.expect_equal(LiarList([1, 2]), [1, 2], "x")


def test_expect_answer_never_shows_the_answer(tmp_path, monkeypatch):
    with pytest.raises(AssertionError) as info:
        grading.expect_answer(9, 10, "stride3_output_size", hint="count the positions")
    assert "10" not in str(info.value) and "hint: count the positions" in str(info.value)
    with pytest.raises(AssertionError) as info:
        grading.expect_answer((55, 55), (55, 54), "shape")
    assert "54" not in str(info.value)
    record = tmp_path / "answers.jsonl"
    monkeypatch.setenv("DLCV_RECORD_ANSWERS", str(record))
    grading.expect_answer(10, 10, "n")
    grading.expect_answer([1, 2], (1, 2), "pair")
    assert record.read_text().splitlines() == ['{"what": "n", "expected": 10}', '{"what": "pair", "expected": [1, 2]}']


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


def test_forbid_catches_every_alias_of_an_op():
    """Issue 11: torch.special.log_softmax and F.max_pool2d_with_indices(...)[0] slipped past forbid."""
    import torchvision

    x = torch.randn(2, 3, 6, 6)
    caught = [
        (("torch.nn.functional.log_softmax",), lambda: torch.special.log_softmax(x, 1), "torch.special.log_softmax"),
        ((F.log_softmax,), lambda: x.log_softmax(1), "torch.Tensor.log_softmax"),
        ((F.log_softmax,), lambda: F.cross_entropy(x[:, :, 0, 0], torch.tensor([0, 1])), "aten::_log_softmax"),
        (("torch.nn.functional.max_pool2d",), lambda: F.max_pool2d_with_indices(x, 2)[0], "max_pool2d_with_indices"),
        (("torch.max_pool2d",), lambda: torch.nn.MaxPool2d(2)(x), "MaxPool2d.forward"),
        (("torch.nn.functional.conv2d",), lambda: torch.convolution(x, torch.randn(4, 3, 3, 3), None, [1, 1], [0, 0],
                                                                  [1, 1], False, [0, 0], 1), "torch.convolution"),
        (("torch.nn.functional.batch_norm",), lambda: torch.nn.BatchNorm2d(3)(x), "BatchNorm2d"),
        (("torchvision.ops.nms",), lambda: torch.ops.torchvision.nms(torch.tensor([[0.0, 0, 1, 1]]), torch.ones(1), 0.5),
         "torchvision::nms"),
        (("aten::_log_softmax",), lambda: torch.log_softmax(x, 1), "aten::_log_softmax"),
    ]
    for targets, call, named in caught:
        with pytest.raises(AssertionError, match=named):
            with grading.forbid(*targets, exercise="e"):
                call()
    # What an exercise may still use: other ops, and Tensor.unfold (a strided view, not im2col).
    with grading.forbid(F.log_softmax, "torch.nn.functional.max_pool2d", F.conv2d, "torch.nn.functional.unfold"):
        torch.softmax(x, 1), torch.logsumexp(x, 1), x.amax(dim=(2, 3)), x.unfold(2, 3, 1)
        torch.einsum("nchw,chw->n", x, x[0])
        torchvision.ops.box_iou(torch.tensor([[0.0, 0, 1, 1]]), torch.tensor([[0.0, 0, 1, 1]]))


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


@pytest.mark.parametrize("value, quick", [("1", True), ("true", True), (" YES ", True), ("on", True),
                                          ("0", False), ("", False), ("no", False), (None, False)])
def test_is_quick_reads_the_environment(monkeypatch, value, quick):
    if value is None:
        monkeypatch.delenv(runtime.QUICK_ENV, raising=False)
    else:
        monkeypatch.setenv(runtime.QUICK_ENV, value)
    assert runtime.is_quick() is quick


def test_get_device_and_report_check_their_arguments(monkeypatch):
    monkeypatch.setenv("DLCV_DEVICE", "banana")
    with pytest.raises(ValueError, match="the environment variable DLCV_DEVICE must name a device"):
        runtime.get_device()
    assert runtime.get_device("cpu").type == "cpu"  # an explicit choice wins over the environment
    with pytest.raises(ValueError, match="prefer must name a device"):
        runtime.get_device("banana")
    with pytest.raises(ValueError, match="value must be a number, got nan"):
        runtime.report("acc", float("nan"))
    with pytest.raises(TypeError, match="value must be a real number, got str"):
        runtime.report("acc", "0.9")


def test_expect_tensor_checks_kind_shape_and_dtype():
    x = torch.zeros(2, 3)
    assert grading.expect_tensor(x, "output", shape=(2, 3), dtype=torch.float32) is x
    assert grading.expect_tensor(x, "output", shape=[2, 3]) is x  # a list shape is a shape
    with pytest.raises(AssertionError, match=r"output should be a torch.Tensor, got list"):
        grading.expect_tensor([[0.0] * 3] * 2, "output")
    with pytest.raises(AssertionError, match="output should be a torch.Tensor"):
        grading.expect_tensor(x.as_subclass(AlwaysEqual), "output")  # subclasses do not pass
    with pytest.raises(AssertionError, match=r"output should have shape \[3, 2\], got \[2, 3\]"):
        grading.expect_tensor(x, "output", shape=(3, 2))
    with pytest.raises(AssertionError, match="output should have dtype torch.float64, got torch.float32"):
        grading.expect_tensor(x, "output", dtype=torch.float64)


def test_resolve_imports_dotted_names():
    assert grading.resolve("torch.nn.functional.conv2d") is F.conv2d
    assert grading.resolve("course_utils.ops.conv.conv2d_loop") is conv.conv2d_loop
    assert grading.resolve("torch.nn.Conv2d.forward") is torch.nn.Conv2d.forward  # an attribute of a class
    with pytest.raises(ValueError, match="cannot import 'no_such_module_xyz'"):
        grading.resolve("no_such_module_xyz")
    with pytest.raises(AttributeError):
        grading.resolve("torch.no_such_function_xyz")
