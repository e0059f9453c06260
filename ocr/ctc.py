"""How well a line's pixels fit a given text: the recogniser's CTC log-likelihood of that text.

The recogniser (PP-OCR's CTC head) gives, for each of the T columns of a line image, a probability
over its dictionary plus the CTC blank. Its reading is the best column-by-column path; the
likelihood of any other text is the sum over every path that spells it (the CTC forward algorithm,
Graves et al. 2006). Comparing the two tells whether the pixels could as well say something else:
a blurred 姣 that the recogniser read as 蛟 leaves 姣 a likely second reading, a crisp 华 leaves 明
no chance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BLANK = 0
# Probabilities are floored here before the logarithm: a character the model rules out costs
# about 27.6 per column, finite, so two impossible texts still compare.
_FLOOR = 1e-12


def log_likelihood(probs: np.ndarray, labels: Sequence[int], blank: int = BLANK) -> float:
    """log P(labels | probs) under CTC. ``probs``: (T, C) per-column probabilities (softmax output),
    ``labels``: the text as dictionary indices (no blanks). -inf when the text cannot fit in T
    columns."""
    log_probs = np.log(np.clip(np.asarray(probs, dtype=np.float64), _FLOOR, 1.0))
    steps = log_probs.shape[0]
    ext = np.full(2 * len(labels) + 1, blank, dtype=np.int64)  # blank, l1, blank, l2, …, blank
    ext[1::2] = labels
    size = ext.size
    # A path may jump over a blank between two different labels (not between a repeated one).
    skip = np.zeros(size, dtype=bool)
    skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    alpha = np.full(size, -np.inf)
    if steps == 0:
        return -np.inf if labels else 0.0
    alpha[0] = log_probs[0, ext[0]]
    if size > 1:
        alpha[1] = log_probs[0, ext[1]]
    for t in range(1, steps):
        stay = alpha
        step = np.concatenate(([-np.inf], alpha[:-1]))
        jump = np.full(size, -np.inf)
        jump[2:] = np.where(skip[2:], alpha[:-2], -np.inf)
        alpha = np.logaddexp(np.logaddexp(stay, step), jump) + log_probs[t, ext]
    return float(np.logaddexp(alpha[-1], alpha[-2]) if size > 1 else alpha[-1])
