"""When the orientation pre-pass's line boxes are recognised as they are, and when the page is
detected again at full size (small print)."""

import numpy as np

from ocr import OcrEngine, OcrOptions


def line(y: float, height: float, x0: float = 50, width: float = 400) -> np.ndarray:
    return np.array([[x0, y], [x0 + width, y], [x0 + width, y + height], [x0, y + height]], dtype=np.float64)


def test_lines_tall_enough_at_prepass_size_are_reused() -> None:
    engine = OcrEngine(OcrOptions(prepass_side_len=1000, det_reuse_min_line_px=12))
    tall = [line(100 + 40 * i, 20) for i in range(10)]
    assert engine.prepass_suffices(tall, (1000, 800, 3))


def test_small_print_is_detected_again() -> None:
    engine = OcrEngine(OcrOptions(prepass_side_len=1000, det_reuse_min_line_px=12))
    # 20 px lines on a 2000 px page are 10 px at the pre-pass's 1000 px: too small to trust.
    assert not engine.prepass_suffices([line(100 + 40 * i, 20) for i in range(10)], (2000, 1500, 3))


def test_no_lines_or_reuse_turned_off_means_detect_again() -> None:
    assert not OcrEngine(OcrOptions()).prepass_suffices([], (1000, 800, 3))
    off = OcrEngine(OcrOptions(det_reuse_min_line_px=None))
    assert not off.prepass_suffices([line(100, 40)], (1000, 800, 3))
