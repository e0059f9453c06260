"""Text normalisation shared by the classifiers: full-width → half-width, OCR confusions, spacing.

OCR output of Chinese forms mixes full-width and half-width forms (``：`` / ``:``, ``２０１６`` /
``2016``), inserts spaces between the characters of spaced-out labels (``姓 名``) and confuses
look-alike glyphs (``O``/``0``, ``l``/``1``). Every matcher in this package works on text passed
through these helpers, so the rules live in one place.

Length-preserving helpers (``fold_char``, ``fold``, ``fix_digit_confusions``) keep character
offsets aligned with the original text, so a match can be traced back to the OCR line (and box)
it came from.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Glyphs OCR reads in place of digits. Only applied where a digit is next to them, because the same
# letters are legitimate in lab items (``CO2``, ``IgG``) and names.
DIGIT_CONFUSIONS: dict[str, str] = {
    "O": "0",
    "o": "0",
    "D": "0",
    "Q": "0",
    "〇": "0",
    "l": "1",
    "I": "1",
    "|": "1",
    "i": "1",
    "t": "1",  # a 1 with a seal's ring or a table rule crossing it
    "Z": "2",
    "z": "2",
    "S": "5",
    "s": "5",
    "B": "8",
    "g": "9",
}

# Punctuation that OCR returns in several look-alike forms and which NFKC leaves alone.
_PUNCT_FOLDS: dict[str, str] = {
    "·": "·",
    "•": "·",
    "‧": "·",
    "—": "-",
    "–": "-",
    "－": "-",
    "~": "-",
    "～": "-",
    "〜": "-",
    "\u3000": " ",
}

_SPACE_RE = re.compile(r"\s+")


@lru_cache(maxsize=4096)
def fold_char(char: str) -> str:
    """One character in its canonical half-width form, or unchanged if that would change length."""
    if char in _PUNCT_FOLDS:
        return _PUNCT_FOLDS[char]
    folded = unicodedata.normalize("NFKC", char)
    # NFKC expands some characters (``㎎`` → ``mg``, ``½``); keeping offsets aligned matters more.
    return folded if len(folded) == 1 else char


def fold(text: str) -> str:
    """Full-width → half-width and look-alike punctuation folded; same length as ``text``."""
    return "".join(fold_char(c) for c in text)


def normalize(text: str) -> str:
    """Folded text with runs of whitespace collapsed to one space and the ends stripped."""
    return _SPACE_RE.sub(" ", fold(text)).strip()


def compact(text: str) -> str:
    """Folded text without any whitespace: what keyword matching compares, since OCR splits
    spaced-out labels (``姓 名``, ``出 院 小 结``) at random."""
    return _SPACE_RE.sub("", fold(text))


def fix_digit_confusions(text: str) -> str:
    """Replace letters OCR confuses with digits where they touch a digit; same length as ``text``.

    ``2O26-03-05`` → ``2026-03-05``; ``CO2`` → ``C02`` too, so use the result for matching numbers
    only, never as the text to show.
    """
    chars = list(text)
    n = len(chars)

    def neighbour_is_digit(i: int, step: int) -> bool:
        j = i + step
        # Look past spaces and date separators: "2O26" and "2026-O3" both count.
        while 0 <= j < n and chars[j] in " -./":
            j += step
        return 0 <= j < n and chars[j].isdigit()

    # Two passes so a run like "2OO6" is fixed from both ends.
    for _ in range(2):
        for i, c in enumerate(chars):
            if c in DIGIT_CONFUSIONS and (neighbour_is_digit(i, -1) or neighbour_is_digit(i, 1)):
                chars[i] = DIGIT_CONFUSIONS[c]
    return "".join(chars)


def spaced(label: str) -> str:
    """A regex for ``label`` that tolerates whitespace between its characters (``姓\\s*名``)."""
    return r"\s*".join(re.escape(c) for c in label)


CJK = r"\u4e00-\u9fff"


def is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"
