"""Questions about the shapes scenes, with their answers: a small visual question answering set.

Four kinds of question, asked about one :class:`~course_utils.data.ShapesScenes` item::

    count     "how many circles are there ?"          -> "zero", "one", "two", ...
    colour    "what colour is the square ?"           -> "red", "green", ...   (only if exactly one square)
    exists    "is there a red star ?"                 -> "yes" / "no"
    left of   "is there a ring left of the star ?"    -> "yes" / "no"          (only if exactly one star)

"Left of" compares box centres: a ring is left of the star if its centre's x is smaller.
An object's colour is read from the image: the palette colour nearest to the median
colour of its visible pixels (the scene generator draws every object in one palette
colour, with a mild brightness jitter and pixel noise, so the nearest colour is the
colour it was drawn in; the tests check this against the captions).

**Balanced or naive.** A naive generator picks what to ask about at random. Then the
answer is often predictable from the question alone: most shapes are absent from a scene
of three objects, so "how many circles are there?" is mostly "zero", and "is there a
red star?" mostly "no". A model that never looks at the image scores well: the
*language prior* of the VQA literature (Goyal et al., 2017, built VQA v2 to remove it).
With ``balanced=True`` (the default) the generator first picks the answer among those
the scene allows, uniformly, then a question with that answer, so that the question
alone says as little as possible.
"""
from __future__ import annotations

import random
from typing import NamedTuple, Sequence

import torch
from torch.utils.data import Dataset

from course_utils.checks import check_nonnegative_int, check_tensor
from course_utils.data.shapes import _PALETTE_RGB, COLOR_NAMES, NUMBER_WORDS, SHAPE_CLASSES

__all__ = [
    "QUESTION_KINDS",
    "ANSWERS",
    "QUESTION_VOCAB",
    "Question",
    "object_colors",
    "scene_objects",
    "scene_questions",
    "tokenize_question",
    "ShapesQuestions",
]

QUESTION_KINDS: tuple[str, ...] = ("count", "colour", "exists", "left of")
SHAPES: tuple[str, ...] = SHAPE_CLASSES[1:]
_PLURAL = {"circle": "circles", "square": "squares", "triangle": "triangles", "star": "stars", "ring": "rings"}
#: Every possible answer; a model predicts one of them (a classifier over answers).
ANSWERS: tuple[str, ...] = ("no", "yes") + NUMBER_WORDS + COLOR_NAMES
#: Every word a question can contain; index 0 is reserved for padding.
QUESTION_VOCAB: tuple[str, ...] = ("<pad>",) + tuple(sorted(
    {"how", "many", "are", "there", "?", "what", "colour", "is", "the", "a", "an", "left", "of"}
    | set(SHAPES) | set(_PLURAL.values()) | set(COLOR_NAMES)))
_PALETTE = torch.from_numpy(_PALETTE_RGB)  # [P, 3]


class Question(NamedTuple):
    """One question: its kind (one of :data:`QUESTION_KINDS`), its text and its answer (in :data:`ANSWERS`)."""
    kind: str
    text: str
    answer: str


def object_colors(image: torch.Tensor, masks: torch.Tensor) -> list[int]:
    """The palette colour of each object: nearest to the median colour of its visible pixels.

    Args:
        image: ``Tensor[3, H, W]`` in [0, 1].
        masks: ``Tensor[N, H, W]`` bool, the visible part of each object.

    Returns:
        ``N`` indices into :data:`~course_utils.data.COLOR_NAMES`.

    Examples:
        >>> from course_utils.data import ShapesScenes
        >>> image, target = ShapesScenes(5, image_size=32, max_objects=1, min_objects=1, seed=0)[0]
        >>> name = COLOR_NAMES[object_colors(image, target["masks"])[0]]
        >>> name in target["caption"]
        True
    """
    check_tensor(image, "image", ndim=3)
    check_tensor(masks, "masks", ndim=3, dtypes=(torch.bool,))
    colors = []
    for mask in masks:
        if not bool(mask.any()):
            raise ValueError("every mask must cover at least one pixel")
        median = image[:, mask].median(dim=1).values  # [3]
        colors.append(int(((_PALETTE.to(image) - median) ** 2).sum(dim=1).argmin()))
    return colors


def scene_objects(image: torch.Tensor, target: dict) -> list[tuple[str, str, float]]:
    """``(shape, colour, centre x)`` of every object of a scene, in drawing order.

    Examples:
        >>> from course_utils.data import ShapesScenes
        >>> objects = scene_objects(*ShapesScenes(3, image_size=32, min_objects=2, seed=1)[0])
        >>> all(shape in SHAPES and colour in COLOR_NAMES for shape, colour, _ in objects)
        True
    """
    if len(target["labels"]) == 0:
        return []
    colours = object_colors(image, target["masks"])
    centres = ((target["boxes"][:, 0] + target["boxes"][:, 2]) / 2).tolist()
    return [(SHAPE_CLASSES[int(label)], COLOR_NAMES[c], x) for label, c, x in zip(target["labels"], colours, centres)]


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def scene_questions(image: torch.Tensor, target: dict, rng: random.Random, balanced: bool = True) -> list[Question]:
    """Up to one question of each kind about one scene (a kind is skipped when it cannot be asked).

    Args:
        image, target: one ``ShapesScenes`` item.
        rng: a ``random.Random``; the questions are a function of the scene and its state.
        balanced: pick the answer first (see the module docstring), or pick the subject at random.

    Returns:
        A list of :class:`Question`, in the order of :data:`QUESTION_KINDS`.

    Examples:
        >>> from course_utils.data import ShapesScenes
        >>> image, target = ShapesScenes(1, image_size=32, min_objects=3, max_objects=3, seed=0)[0]
        >>> [q.kind for q in scene_questions(image, target, random.Random(0))]
        ['count', 'colour', 'exists', 'left of']
    """
    objects = scene_objects(image, target)
    counts = {s: sum(o[0] == s for o in objects) for s in SHAPES}
    questions = []

    # count
    if balanced:
        achievable = sorted(set(counts.values()))
        wanted = rng.choice(achievable)
        shape = rng.choice([s for s in SHAPES if counts[s] == wanted])
    else:
        shape = rng.choice(SHAPES)
    questions.append(Question("count", f"how many {_PLURAL[shape]} are there ?", NUMBER_WORDS[counts[shape]]))

    # colour (of a shape that occurs exactly once)
    unique = [s for s in SHAPES if counts[s] == 1]
    if unique:
        shape = rng.choice(unique)
        colour = next(c for s, c, _ in objects if s == shape)
        questions.append(Question("colour", f"what colour is the {shape} ?", colour))

    # exists
    present = {(c, s) for s, c, _ in objects}
    if balanced and present and rng.random() < 0.5:
        colour, shape = rng.choice(sorted(present))
    elif balanced:
        colour, shape = rng.choice(sorted((c, s) for c in COLOR_NAMES for s in SHAPES if (c, s) not in present))
    else:
        colour, shape = rng.choice(COLOR_NAMES), rng.choice(SHAPES)
    questions.append(Question("exists", f"is there {_article(colour)} {colour} {shape} ?",
                              "yes" if (colour, shape) in present else "no"))

    # left of (the reference shape occurs exactly once)
    if unique:
        reference = rng.choice(unique)
        x_ref = next(x for s, _, x in objects if s == reference)
        others = [s for s in SHAPES if s != reference]
        left = {s for s, _, x in objects if s != reference and x < x_ref}
        if balanced:
            yes, no = sorted(left), [s for s in others if s not in left]
            if yes and no:  # both answers possible: ask, with each answer equally likely
                shape = rng.choice(yes if rng.random() < 0.5 else no)
            else:
                shape = None
        else:
            shape = rng.choice(others)
        if shape is not None:
            questions.append(Question("left of", f"is there {_article(shape)} {shape} left of the {reference} ?",
                                      "yes" if shape in left else "no"))
    return questions


def tokenize_question(text: str) -> list[int]:
    """Indices into :data:`QUESTION_VOCAB` of the words of a question (split on spaces).

    Examples:
        >>> [QUESTION_VOCAB[i] for i in tokenize_question("how many stars are there ?")]
        ['how', 'many', 'stars', 'are', 'there', '?']
    """
    index = {w: i for i, w in enumerate(QUESTION_VOCAB)}
    try:
        return [index[w] for w in text.split()]
    except KeyError as err:
        raise ValueError(f"word {err.args[0]!r} of {text!r} is not in QUESTION_VOCAB") from None


class ShapesQuestions(Dataset):
    """Questions and answers about a list of shapes scenes.

    Args:
        scenes: a sequence of ``(image, target)`` items (a ``ShapesScenes``, or a list of its items).
        balanced: see the module docstring.
        seed: seeds the choice of questions.

    Attributes:
        questions (list[Question]); scene_index (Tensor[Q] int64): the scene each question is about;
        tokens (Tensor[Q, L] int64): the words as indices into :data:`QUESTION_VOCAB`, padded with 0;
        answers (Tensor[Q] int64): indices into :data:`ANSWERS`;
        kinds (Tensor[Q] int64): indices into :data:`QUESTION_KINDS`.

    Items are ``(scene_index, tokens Tensor[L], answer, kind)``.

    Examples:
        >>> from course_utils.data import ShapesScenes
        >>> qa = ShapesQuestions(ShapesScenes(20, image_size=32, min_objects=1, max_objects=3, seed=0))
        >>> len(qa) >= 40, qa.tokens.shape[1], ANSWERS[int(qa.answers[0])] == qa.questions[0].answer
        (True, 9, True)
    """

    def __init__(self, scenes: Sequence, balanced: bool = True, seed: int = 0) -> None:
        check_nonnegative_int(seed, "seed")
        rng = random.Random(seed)
        self.questions: list[Question] = []
        owners = []
        for i in range(len(scenes)):
            image, target = scenes[i]
            for q in scene_questions(image, target, rng, balanced=balanced):
                self.questions.append(q)
                owners.append(i)
        self.balanced = balanced
        self.scene_index = torch.tensor(owners, dtype=torch.long)
        encoded = [tokenize_question(q.text) for q in self.questions]
        longest = max((len(e) for e in encoded), default=0)
        self.tokens = torch.zeros(len(encoded), longest, dtype=torch.long)
        for row, ids in enumerate(encoded):
            self.tokens[row, :len(ids)] = torch.tensor(ids)
        self.answers = torch.tensor([ANSWERS.index(q.answer) for q in self.questions], dtype=torch.long)
        self.kinds = torch.tensor([QUESTION_KINDS.index(q.kind) for q in self.questions], dtype=torch.long)

    def __len__(self) -> int:
        return len(self.questions)

    def __getitem__(self, index: int):
        return int(self.scene_index[index]), self.tokens[index], int(self.answers[index]), int(self.kinds[index])
