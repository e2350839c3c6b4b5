"""The references of graded exercises: marked, twinned, and the twins as good as the references.

* every course_utils function that a hidden test forbids is marked ``reference_of`` or
  ``not_an_answer`` (a new chapter fails here until its author marks its references);
* every marked reference names a graded exercise that exists, and its twin has the same
  signature and gives the same results on the cases of ``autograder/tools/reference_cases.py``;
* copying a twin out of the student release earns nothing: the twin calls something the
  exercise's hidden tests forbid (except for the few listed below, which have no such library).
"""
from __future__ import annotations

import inspect
import warnings

import pytest

from autograder.tools import reference_cases, withhold
from autograder.tools.build import chapter_names, load_solution
from course_utils.references import NOT_ANSWERS, REFERENCES, resolve_twin

withhold.load_registry()
CHAPTERS = chapter_names()
TWINNED = sorted(k for k, r in REFERENCES.items() if r.twin is not None)

# Twins that cannot be built on a function the exercise forbids, because no library has one
# (or the hidden tests do not forbid it): copying them would pass the tests, and the copy
# check (autograder/tools/copycheck.py) compares submissions with these twins too.
NOT_PROTECTED_BY_FORBID = {
    "course_utils.metrics.keypoints.pck": "no library computes PCK",
    "course_utils.metrics.keypoints.pck_loop": "no library computes PCK",
    "course_utils.metrics.keypoints.oks": "pycocotools is a test dependency only: no run-time library computes OKS",
    "course_utils.metrics.keypoints.oks_loop": "pycocotools is a test dependency only: no run-time library computes OKS",
    "course_utils.models.hourglass.Hourglass.forward": "no library has an hourglass module",
    "course_utils.models.hourglass.hourglass_sizes": "the exercise forbids only the reference (meta conv2d and max_pool2d)",
    "course_utils.hparam.sample_log_uniform": "a uniform draw and a power: no library function to forbid",
    "course_utils.mlp.mlp_parameter_count": "the exercise forbids nothing (counting a meta-device model)",
    "course_utils.ops.conv.receptive_field": "the exercise forbids only the reference (meta conv_transpose1d)",
    "course_utils.ops.conv.activation_bytes": "the exercise forbids only the reference (meta tensor size)",
    "course_utils.ops.upsample.conv_transpose_output_size": "the exercise forbids only the reference",
    "course_utils.train.accuracy.topk_accuracy": "the exercise forbids only the reference (scikit-learn)",
    "course_utils.metrics.segmentation.per_class_iou": "scikit-learn's jaccard_score is not forbidden",
    "course_utils.metrics.segmentation.mean_iou": "scikit-learn's jaccard_score is not forbidden",
    "course_utils.metrics.segmentation.pixel_accuracy": "scikit-learn's accuracy_score is not forbidden",
    "course_utils.metrics.detection.average_precision": "no library computes the interpolated VOC/COCO AP",
    "course_utils.layers.BasicBlock.forward": "torchvision's BasicBlock.forward is not forbidden",
    "course_utils.layers.Bottleneck.forward": "not an exercise of its own (withheld with BasicBlock.forward)",
    "course_utils.ops.conv.avg_pool2d_loop": "not an exercise of its own (withheld with max pooling)",
    "course_utils.losses.contrastive.nt_xent": "no library has an NT-Xent loss (log_softmax is allowed)",
    "course_utils.losses.contrastive.nt_xent_loop": "no library has an NT-Xent loss (log_softmax is allowed)",
    "course_utils.data.pretext.sample_patch_pairs": "integer draws only: no library function to forbid",
    "course_utils.models.ssl.simclr_step": "a training step: no library function to forbid",
    "course_utils.data.video.video_bytes": "the exercise forbids only the reference (meta tensor size)",
    "course_utils.ops.attention.split_heads": "a reshape and a permute: no library function to forbid",
    "course_utils.ops.attention.merge_heads": "a permute and a reshape: no library function to forbid",
}


def _exercises() -> dict[str, set[str]]:
    out = {}
    for chapter in CHAPTERS:
        nb = load_solution(chapter)
        out[chapter] = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                        if c.metadata.get("nbgrader", {}).get("solution")}
    return out


EXERCISES = _exercises()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_forbidden_course_utils_function_is_marked(chapter):
    """A hidden test forbids a course_utils function: it is a reference (withheld) or declared not an answer."""
    unmarked = withhold.unmarked_forbidden([chapter])
    assert not unmarked, (
        "these course_utils functions are forbidden by a hidden test but marked neither "
        "@reference_of(..., twin=...) nor @not_an_answer(..., why=...) (see course_utils/references.py):\n  "
        + "\n  ".join(unmarked))


def test_forbidden_lists_are_read():
    """The static reading of forbid(...) finds the aliases, tuples and strings the chapters use."""
    ch02 = withhold.forbidden_course_utils("02_cnns")
    assert "course_utils.ops.conv.conv2d_loop" in ch02["conv2d_loops"]
    assert "course_utils.ops.conv.max_pool2d_loop" in ch02["max_pool2d_forward"]
    ch03 = withhold.forbidden_course_utils("03_architectures")
    assert "course_utils.layers.BasicBlock.forward" in ch03["residual_block_forward"]
    assert "course_utils.summary.summarize" in ch03["layer_table"]
    assert "course_utils.train.accuracy.topk_accuracy" in ch03["topk_accuracy"]
    ch04 = withhold.forbidden_course_utils("04_segmentation")
    assert "course_utils.models.segmentation.UNet.forward" in ch04["unet_shapes"]


@pytest.mark.parametrize("key", sorted(REFERENCES))
def test_reference_names_an_existing_exercise(key):
    ref = REFERENCES[key]
    if ref.chapter not in EXERCISES:
        pytest.skip(f"chapter {ref.chapter} has no solution source yet")
    assert ref.exercise.split("/")[1] in EXERCISES[ref.chapter], (
        f"{key} is marked as the answer of {ref.exercise}, but {ref.chapter} has no solution cell with that "
        f"grade_id; its exercises are {sorted(EXERCISES[ref.chapter])}")


def _parameters(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(inspect.unwrap(fn)).parameters.values()]


@pytest.mark.parametrize("key", TWINNED)
def test_twin_has_the_signature_of_its_reference(key):
    ref = REFERENCES[key]
    twin = resolve_twin(ref)
    assert _parameters(twin) == _parameters(reference_cases.resolve(key)), (
        f"the twin of {key} must take the same parameters (names, kinds, defaults): the student release "
        f"calls it with the reference's arguments.\n  reference: {inspect.signature(reference_cases.resolve(key))}"
        f"\n  twin:      {inspect.signature(twin)}")


@pytest.mark.parametrize("chapter", sorted({REFERENCES[k].chapter for k in TWINNED}))
def test_every_twinned_reference_has_agreement_cases(chapter):
    missing = [k for k in TWINNED if REFERENCES[k].chapter == chapter and k not in reference_cases.CASES]
    assert not missing, ("add cases for these references to autograder/tools/reference_cases.py (the inputs on "
                         "which the twin and the student edition must agree with them):\n  " + "\n  ".join(missing))


@pytest.mark.parametrize("key", sorted(k for k in reference_cases.CASES if k in REFERENCES))
def test_twin_agrees_with_its_reference(key):
    twin = resolve_twin(REFERENCES[key])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a twin that warns would put stderr in a student's notebook
        expected = reference_cases.run_case(key)
        got = reference_cases.run_case(key, twin)
    assert expected, f"the cases of {key} yield nothing"
    diff = reference_cases.difference(got, expected)
    assert diff is None, f"the twin of {key} differs from the reference: {diff}"


def _forbid_targets(ref) -> list[str]:
    chapter, grade_id = ref.exercise.split("/")
    return withhold.forbidden_targets(chapter).get(grade_id, [])


@pytest.mark.parametrize("key", sorted(k for k in TWINNED if REFERENCES[k].chapter in EXERCISES
                                       and k in reference_cases.CASES))
def test_copying_the_twin_earns_nothing(key):
    """Run the twin under the exercise's own forbid(...): it must be caught (or be listed above, with why)."""
    from course_utils.grading import forbid
    ref = REFERENCES[key]
    targets = [t for t in _forbid_targets(ref) if withhold._resolve(t) is not None]
    twin = resolve_twin(ref)
    caught = []

    def guarded(*args, **kwargs):
        try:
            with forbid(*targets, exercise=ref.exercise):
                return twin(*args, **kwargs)
        except AssertionError as exc:
            if "write the computation yourself" not in str(exc):
                raise
            caught.append(str(exc))
            raise

    if targets:
        try:
            for _ in reference_cases.CASES[key](guarded):
                pass
        except AssertionError as exc:
            if "write the computation yourself" not in str(exc):
                raise
    if key in NOT_PROTECTED_BY_FORBID:
        assert not caught, f"{key} is now caught by its exercise's forbid: remove it from NOT_PROTECTED_BY_FORBID"
    else:
        assert caught, (f"the twin of {key} calls nothing that {ref.exercise}'s hidden tests forbid "
                        f"({targets}): a student who copies it from the release earns full marks")


def test_not_answers_name_existing_exercises():
    for key, entry in NOT_ANSWERS.items():
        for exercise in entry.exercises:
            chapter, grade_id = exercise.split("/")
            if chapter in EXERCISES:
                assert grade_id in EXERCISES[chapter], f"{key}: no exercise {exercise}"


def test_decorators_return_the_function_itself():
    """forbid() recognizes a function by its code object: the marks must not wrap it."""
    import course_utils.ops.conv as conv
    assert conv.conv2d_loop.__code__.co_name == "conv2d_loop"
    assert "course_utils.ops.conv.conv2d_loop" in REFERENCES
