"""Shared fixtures: one OCR engine per test session (loading the models takes about a second)."""

from __future__ import annotations

import pytest

from ocr import OcrEngine, OcrOptions


@pytest.fixture(scope="session")
def engine() -> OcrEngine:
    """The engine with default (offline) options, models loaded once for the session."""
    eng = OcrEngine(OcrOptions())
    eng.warm_up()
    return eng
