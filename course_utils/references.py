"""Which functions of ``course_utils`` are the readable answer of a graded exercise.

A course that is graded cannot hand out its answer key, yet a self-study reader should
keep the readable versions. Every function that is the reference of a graded exercise is
marked where it is defined::

    @reference_of("02_cnns/conv2d_loops", twin=_conv2d_twin)
    def conv2d_loop(x, weight, bias=None, stride=1, padding=0):
        ...

``exercise`` is ``"<chapter>/<grade_id of the solution cell>"``. ``twin`` is a function
with the same signature and the same results built on PyTorch / torchvision (or a dotted
name of one), written next to the reference; the student release (``make release``)
replaces the body of every marked function by a call to its twin, unless the chapter is
unlocked (``make release UNLOCK=02_cnns``). A reference without a twin is withheld
entirely (a private helper of a withheld reference, say), and nothing left in the
release may need it: the release check proves both.

The rules for a twin:

* same signature, same input checks (it may call the same ``_check_*`` helpers), same
  results, including in-place updates; ``tests/test_references.py`` compares the two on
  the cases of ``autograder/tools/reference_cases.py`` and on the reference's doctests;
* built on the library function the exercise asks the student to write by hand
  (``F.conv2d``, ``torchvision.ops.nms``), so that copying the twin earns nothing under the
  exercise's ``forbid(...)``; where no such function exists, a fast version that is not
  the readable teaching one;
* it must not itself call a withheld helper.

A function that a graded exercise *forbids* but whose code is not that exercise's answer
(a general tool such as ``summarize``, a method that calls the reference, a model whose
``forward`` would give the shapes away) is declared with :func:`not_an_answer`, and ships
unchanged. ``tests/test_references.py`` lists every course_utils function forbidden by
a hidden test and marked neither way, so a new chapter cannot forget its references.

The decorators change nothing at run time: the repository always has the full library.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Callable

__all__ = ["Reference", "NotAnswer", "REFERENCES", "NOT_ANSWERS", "reference_of", "not_an_answer", "resolve_twin"]


@dataclass(frozen=True)
class Reference:
    """One marked function: where it lives, the exercise it answers, and its twin."""
    module: str
    qualname: str
    exercise: str
    twin: Callable | str | None

    @property
    def chapter(self) -> str:
        return self.exercise.split("/", 1)[0]

    @property
    def key(self) -> str:
        return f"{self.module}.{self.qualname}"


@dataclass(frozen=True)
class NotAnswer:
    """A function some exercises forbid although its code is not their answer; it ships as is."""
    module: str
    qualname: str
    exercises: tuple[str, ...]
    why: str


#: ``"module.qualname"`` -> :class:`Reference`, filled as modules are imported.
REFERENCES: dict[str, Reference] = {}
#: ``"module.qualname"`` -> :class:`NotAnswer`, filled as modules are imported.
NOT_ANSWERS: dict[str, NotAnswer] = {}


def _check_exercise(exercise) -> None:
    if not isinstance(exercise, str) or exercise.count("/") != 1 or not all(exercise.split("/")):
        raise ValueError(f"exercise must be '<chapter>/<grade_id>', got {exercise!r}")


def reference_of(exercise: str, *, twin: Callable | str | None = None):
    """Mark the decorated function as the readable reference answer of ``exercise``.

    Examples:
        >>> @reference_of("00_demo/double", twin=lambda x: x * 2)
        ... def double(x):
        ...     return x + x
        >>> double(3), REFERENCES[f"{__name__}.double"].chapter
        (6, '00_demo')
        >>> del REFERENCES[f"{__name__}.double"]  # (keep the registry to the library's own functions)
    """
    _check_exercise(exercise)
    if twin is not None and not (callable(twin) or isinstance(twin, str)):
        raise TypeError(f"twin must be a function, a dotted name or None, got {type(twin).__name__}")

    def mark(fn: Callable) -> Callable:
        REFERENCES[f"{fn.__module__}.{fn.__qualname__}"] = Reference(fn.__module__, fn.__qualname__, exercise, twin)
        return fn  # unchanged: forbid() recognizes a function by its code object

    return mark


def not_an_answer(*exercises: str, why: str):
    """Declare that ``exercises`` forbid the decorated function although its code is not their answer.

    Examples:
        >>> @not_an_answer("00_demo/double", why="calls the reference")
        ... def twice(x):
        ...     return 2 * x
        >>> NOT_ANSWERS.pop(f"{__name__}.twice").exercises
        ('00_demo/double',)
    """
    if not exercises:
        raise ValueError("name at least one exercise '<chapter>/<grade_id>'")
    for exercise in exercises:
        _check_exercise(exercise)
    if not isinstance(why, str) or not why.strip():
        raise ValueError("why must say in words why the function is not the answer")

    def mark(fn: Callable) -> Callable:
        NOT_ANSWERS[f"{fn.__module__}.{fn.__qualname__}"] = NotAnswer(fn.__module__, fn.__qualname__, exercises, why)
        return fn

    return mark


def resolve_twin(ref: Reference) -> Callable | None:
    """The twin of ``ref`` as a function (a dotted name is imported), or None."""
    if ref.twin is None or callable(ref.twin):
        return ref.twin
    module, _, attr = ref.twin.rpartition(".")
    while True:  # "torchvision.models.resnet.BasicBlock.forward": import the longest module prefix
        try:
            obj = import_module(module)
            break
        except ImportError:
            if "." not in module:
                raise
            module, _, head = module.rpartition(".")
            attr = f"{head}.{attr}"
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj
