"""Tests of course_utils.data.questions: colours read from pixels, answers recomputed independently."""
import random
import re
from collections import Counter

import pytest
import torch

from course_utils.data import COLOR_NAMES, SHAPE_CLASSES, ShapesScenes
from course_utils.data import questions as Q


@pytest.fixture(scope="module")
def scenes():
    ds = ShapesScenes(400, image_size=32, min_objects=1, max_objects=3, seed=5, occlusion=False,
                      size_range=(0.15, 0.3))
    return [ds[i] for i in range(len(ds))]


def test_colours_agree_with_captions():
    """One or two objects: the caption names each object's colour and shape in drawing order."""
    for occlusion in (True, False):
        ds = ShapesScenes(300, image_size=32, min_objects=1, max_objects=2, seed=2, occlusion=occlusion)
        for i in range(len(ds)):
            image, target = ds[i]
            named = re.findall(r"(\w+) (circle|square|triangle|star|ring)\b", target["caption"])
            colours = [COLOR_NAMES[c] for c in Q.object_colors(image, target["masks"])]
            shapes = [SHAPE_CLASSES[int(l)] for l in target["labels"]]
            assert named == list(zip(colours, shapes)), target["caption"]


def test_answers_are_right(scenes):
    rng = random.Random(0)
    for image, target in scenes:
        objects = Q.scene_objects(image, target)
        for balanced in (True, False):
            for q in Q.scene_questions(image, target, rng, balanced=balanced):
                words = q.text.split()
                assert q.answer in Q.ANSWERS and all(w in Q.QUESTION_VOCAB for w in words)
                if q.kind == "count":
                    shape = words[2][:-1]
                    assert q.answer == Q.NUMBER_WORDS[sum(o[0] == shape for o in objects)]
                elif q.kind == "colour":
                    shape = words[4]
                    matching = [o for o in objects if o[0] == shape]
                    assert len(matching) == 1 and q.answer == matching[0][1]
                elif q.kind == "exists":
                    colour, shape = words[3], words[4]
                    assert q.answer == ("yes" if any(o[:2] == (shape, colour) for o in objects) else "no")
                else:
                    shape, reference = words[3], words[7]
                    ref = [o for o in objects if o[0] == reference]
                    assert len(ref) == 1 and shape != reference
                    left = any(o[0] == shape and o[2] < ref[0][2] for o in objects)
                    assert q.answer == ("yes" if left else "no")


def test_balanced_answers_are_less_predictable(scenes):
    def prior_accuracy(balanced):
        data = Q.ShapesQuestions(scenes, balanced=balanced, seed=1)
        right = 0
        for kind in range(len(Q.QUESTION_KINDS)):
            answers = data.answers[data.kinds == kind].tolist()
            right += Counter(answers).most_common(1)[0][1] if answers else 0
        return right / len(data)

    assert prior_accuracy(True) < prior_accuracy(False) - 0.15
    data = Q.ShapesQuestions(scenes, balanced=True, seed=1)
    for kind in ("exists", "left of"):
        answers = data.answers[data.kinds == Q.QUESTION_KINDS.index(kind)]
        share = float((answers == Q.ANSWERS.index("yes")).float().mean())
        assert 0.4 < share < 0.6, (kind, share)


def test_dataset_tensors(scenes):
    data = Q.ShapesQuestions(scenes[:50], seed=0)
    assert len(data) == len(data.questions) == len(data.answers) == len(data.kinds) == len(data.scene_index)
    scene, tokens, answer, kind = data[3]
    words = [Q.QUESTION_VOCAB[i] for i in tokens.tolist() if i]
    assert " ".join(words) == data.questions[3].text and Q.ANSWERS[answer] == data.questions[3].answer
    again = Q.ShapesQuestions(scenes[:50], seed=0)
    assert again.questions == data.questions
    with pytest.raises(ValueError):
        Q.tokenize_question("how many dogs are there ?")
    with pytest.raises(ValueError):
        Q.object_colors(torch.zeros(3, 4, 4), torch.zeros(1, 4, 4, dtype=torch.bool))
