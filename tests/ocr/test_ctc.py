"""The recogniser's fit of a text to a line's pixels: the CTC likelihood, checked against every path
spelled out, and on a real line the real recogniser read."""

from __future__ import annotations

import itertools
import math

import cv2
import numpy as np
import pytest

from classifiers.identity import NAME_FIT_MARGIN
from ocr import OcrEngine
from ocr.ctc import BLANK, log_likelihood
from tests.ocr.helpers import text_page_image


def brute_force(probs: np.ndarray, labels: list[int]) -> float:
    """P(labels) as the sum over every column path that collapses to them (repeats merged, blanks
    dropped)."""
    steps, classes = probs.shape
    total = 0.0
    for path in itertools.product(range(classes), repeat=steps):
        collapsed = [c for i, c in enumerate(path) if c != BLANK and (i == 0 or c != path[i - 1])]
        if collapsed == labels:
            total += math.prod(probs[t, c] for t, c in enumerate(path))
    return math.log(total) if total else -math.inf


@pytest.mark.parametrize("labels", [[1], [2], [1, 2], [1, 1], [2, 1, 2], [1, 1, 1], []])
def test_the_likelihood_is_the_sum_over_every_path(labels: list[int]) -> None:
    rng = np.random.default_rng(len(labels) * 7 + sum(labels))
    probs = rng.random((5, 3))
    probs /= probs.sum(axis=1, keepdims=True)
    assert log_likelihood(probs, labels) == pytest.approx(brute_force(probs, labels), abs=1e-9)


def test_a_text_too_long_for_the_columns_cannot_fit() -> None:
    probs = np.full((2, 3), 1 / 3)
    assert log_likelihood(probs, [1, 1]) < -20  # a repeat needs a blank between: three columns
    assert log_likelihood(probs, [1, 2]) == pytest.approx(math.log(1 / 9))  # the one path: 1 then 2


@pytest.mark.ocr
def test_a_crisp_line_fits_what_is_printed_and_not_a_look_alike(engine: OcrEngine) -> None:
    """On a clean line the printed name fits far better than a name one look-alike glyph off (well
    beyond the margin ``name_as_printed`` allows); a character outside the dictionary is not scored."""
    page = np.asarray(text_page_image(["姓名：张伟华"], font_px=40))[:, :, ::-1]
    line = next(iter(engine.recognise(page)))
    assert line.text == "姓名：张伟华"
    b = line.box
    crop = np.ascontiguousarray(page[int(b.y0) - 6:int(b.y1) + 6, int(b.x0) - 6:int(b.x1) + 6])
    read, other, outside = engine.text_log_likelihoods(crop, ["姓名：张伟华", "姓名：张伟毕", "姓名：张伟\ue000"])
    assert read is not None and other is not None and outside is None
    assert read > -1.0 and other < read - 1.5 * NAME_FIT_MARGIN
    blurred = cv2.GaussianBlur(crop, (0, 0), 1.0)
    assert engine.text_log_likelihoods(blurred, []) == []
