"""Which functions of ``course_utils`` are the readable answer of a graded exercise.

A course that is graded cannot hand out its answer key, yet a self-study reader should
keep the readable versions. Every function that is the reference of a graded exercise is
marked where it is defined::

    @reference_of("02_cnns/conv2d_loops", twin=_conv2d_twin)
    def conv2d_loop(x, weight, bias=None, stride=1, padding=0):
        ...

``exercise`` is ``"<chapter>/<grade_id of the solution cell>"``. ``twin`` is a function
with the same signature and the same results built on PyTorch / torchvision (or a dotted
name of one); the student release (``make release``) replaces the body of every marked
function by a call to its twin, unless the chapter is unlocked
(``make release UNLOCK=02_cnns``). A reference without a twin is withheld entirely, and
nothing outside its chapter may need it.

The decorator changes nothing at run time: the repository always has the full library.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

__all__ = ["Reference", "REFERENCES", "reference_of"]


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


#: ``"module.qualname"`` -> :class:`Reference`, filled as modules are imported.
REFERENCES: dict[str, Reference] = {}


def reference_of(exercise: str, *, twin: Callable | str | None = None):
    """Mark the decorated function as the readable reference answer of ``exercise``.

    Examples:
        >>> @reference_of("00_demo/double", twin=lambda x: x * 2)
        ... def double(x):
        ...     return x + x
        >>> double(3), REFERENCES[f"{__name__}.double"].chapter
        (6, '00_demo')
    """
    if not isinstance(exercise, str) or "/" not in exercise:
        raise ValueError(f"exercise must be '<chapter>/<grade_id>', got {exercise!r}")

    def mark(fn: Callable) -> Callable:
        REFERENCES[f"{fn.__module__}.{fn.__qualname__}"] = Reference(fn.__module__, fn.__qualname__, exercise, twin)
        return fn

    return mark
