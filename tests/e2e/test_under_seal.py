"""The text a seal hides from the page's detector: read again on a crop around the seal."""

import json
from pathlib import Path

import numpy as np
import pytest

from intake.application import load_application
from intake.prescreen import Prescreener
from ocr.reread import fade_red
from ocr.types import Box, OcrLine

pytestmark = pytest.mark.ocr


def test_the_issue_date_a_seal_ring_crosses_is_read(prescreener: Prescreener, tmp_path: Path) -> None:
    """GIVEN a scanned certificate (tuning seed 1028) whose seal ring crosses the line
    "日期：2026年02月05日", which the page-level detector drops THEN the date is read after all."""
    from fixtures.generator import generate_application

    folder = tmp_path / "app"
    generate_application(1028, folder)
    truth = {d["file"]: d for d in json.loads((folder / "truth.json").read_text("utf-8"))["documents"]}
    name = "scan409_2803.png"
    assert truth[name]["doc_date"] == "2026-02-05" and truth[name]["seal"]["present"]
    application, _files = load_application(folder)
    policy = prescreener.policies.for_region(application.region)
    report = prescreener.analyse_file(name, (folder / name).read_bytes(), application, policy)
    assert report.fields["doc_date"] == "2026-02-05"
    assert "日期" in report.text and "2026年02月05日" in report.text


def test_red_ink_is_faded_and_black_print_kept() -> None:
    image = np.full((10, 10, 3), 250, np.uint8)
    image[2, 2] = (40, 40, 220)  # red (BGR)
    image[3, 3] = (150, 120, 240)  # pink
    image[4, 4] = (30, 30, 30)  # black print
    faded = fade_red(image)
    assert tuple(faded[2, 2]) == (255, 255, 255) and tuple(faded[3, 3]) == (255, 255, 255)
    assert tuple(faded[4, 4]) == (30, 30, 30)
    assert tuple(image[2, 2]) == (40, 40, 220)  # the page itself is left as it was


def test_a_line_read_again_is_not_added_twice() -> None:
    from ocr.reread import _overlaps

    line = OcrLine(text="日期：2026年02月05日", box=Box(x0=100, y0=100, x1=300, y1=130), score=1.0)
    assert _overlaps(Box(x0=105, y0=102, x1=295, y1=128), [line])
    assert not _overlaps(Box(x0=100, y0=140, x1=300, y1=170), [line])
