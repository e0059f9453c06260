"""The text a seal hides from the page's detector: read again on a crop around the seal."""

import json
from pathlib import Path
from typing import ClassVar

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
    from ocr.reread import _overlapping

    line = OcrLine(text="日期：2026年02月05日", box=Box(x0=100, y0=100, x1=300, y1=130), score=1.0)
    assert _overlapping(Box(x0=105, y0=102, x1=295, y1=128), [line]) == [line]
    assert _overlapping(Box(x0=100, y0=140, x1=300, y1=170), [line]) == []


def test_a_page_that_was_not_read_well_is_not_read_again(tmp_path: Path) -> None:
    """A blurred page keeps the reading that makes it unreadable: its seal's corner is not re-read."""
    from classifiers.types import SealFinding
    from intake.settings import Settings
    from ocr.types import OcrPage, OcrResult

    class Engine:
        calls = 0

        def recognise(self, img: np.ndarray) -> list[OcrLine]:
            Engine.calls += 1
            return [OcrLine(text="日期：2026年02月05日", box=Box(x0=1, y0=1, x1=50, y1=10), score=1.0)]

    prescreener = Prescreener(Settings(db={"url": f"sqlite:///{tmp_path / 'db'}"}))
    prescreener.__dict__["engine"] = Engine()
    seal = SealFinding(present=True, color="red", page=0, box=Box(x0=100, y0=100, x1=200, y1=200), score=0.9)
    image = np.full((400, 300, 3), 250, np.uint8)

    def page(scores: list[float]) -> OcrResult:
        lines = [OcrLine(text="模糊", box=Box(x0=10, y0=20 * i, x1=60, y1=20 * i + 15), score=s)
                 for i, s in enumerate(scores)]
        only = OcrPage(index=0, width=300, height=400, source="ocr", lines=lines)
        return OcrResult(media_type="image/jpeg", fingerprint="test", pages=[only])

    blurred = page([0.4, 0.5, 0.6])
    prescreener.read_under_seal(blurred, [image], seal)
    assert Engine.calls == 0 and len(blurred.pages[0].lines) == 3
    sharp = page([0.95] * 8)
    prescreener.read_under_seal(sharp, [image], seal)
    assert Engine.calls == 1 and "日期：2026年02月05日" in sharp.text


def test_a_whole_date_read_again_replaces_the_part_the_seal_left(tmp_path: Path) -> None:
    """GIVEN a sharp page whose seal hid "二〇二" of its date, so that only "六年二月二十日" was read
    WHEN the crop around the seal reads the whole date THEN it replaces the part; a line the page
    already read whole is not replaced by another reading of it."""
    from classifiers.types import SealFinding
    from intake.settings import Settings
    from ocr.types import OcrPage, OcrResult

    date_box = Box(x0=150, y0=150, x1=250, y1=170)

    class Engine:
        said: ClassVar[list[OcrLine]] = []

        def recognise(self, img: np.ndarray) -> list[OcrLine]:
            # The crop starts 60 px left of and above the seal: boxes here are in the crop's pixels.
            return [OcrLine(text=line.text, score=line.score, box=Box(x0=line.box.x0 - 40, y0=line.box.y0 - 40,
                                                                        x1=line.box.x1 - 40, y1=line.box.y1 - 40))
                    for line in Engine.said]

    prescreener = Prescreener(Settings(db={"url": f"sqlite:///{tmp_path / 'db'}"}))
    prescreener.__dict__["engine"] = Engine()
    seal = SealFinding(present=True, color="red", page=0, box=Box(x0=100, y0=100, x1=200, y1=200), score=0.9)
    image = np.full((400, 300, 3), 250, np.uint8)

    def page(date_text: str) -> OcrResult:
        lines = [OcrLine(text="门诊病历记录", box=Box(x0=10, y0=20 * i, x1=60, y1=20 * i + 15), score=0.95)
                 for i in range(6)]
        lines.append(OcrLine(text=date_text, box=date_box, score=0.95))
        only = OcrPage(index=0, width=300, height=400, source="ocr", lines=lines)
        return OcrResult(media_type="image/jpeg", fingerprint="test", pages=[only])

    Engine.said = [OcrLine(text="二〇二六年二月二十日", box=Box(x0=140, y0=148, x1=252, y1=172), score=0.93)]
    cut = page("六年二月二十日")
    prescreener.read_under_seal(cut, [image], seal)
    assert "二〇二六年二月二十日" in cut.text and "\n六年二月二十日" not in f"\n{cut.text}"
    whole = page("2026年2月20日")
    prescreener.read_under_seal(whole, [image], seal)
    assert "2026年2月20日" in whole.text and "二〇二六年二月二十日" not in whole.text


def test_a_better_reading_replaces_the_lines_it_covers_and_keeps_the_rest() -> None:
    from ocr.reread import replace_lines

    label = OcrLine(text="报告日期：", box=Box(x0=600, y0=1500, x1=730, y1=1535), score=0.99)
    poor = OcrLine(text="2026-03-45", box=Box(x0=757, y0=1507, x1=808, y1=1522), score=0.7)
    other = OcrLine(text="检验者：李四", box=Box(x0=100, y0=1500, x1=280, y1=1535), score=0.99)
    better = OcrLine(text="2026-03-05", box=Box(x0=755, y0=1505, x1=810, y1=1524), score=0.95)
    lines = replace_lines([other, label, poor], [better])
    assert [line.text for line in lines] == ["检验者：李四", "报告日期：", "2026-03-05"]
