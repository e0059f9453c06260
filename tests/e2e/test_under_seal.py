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
    """A blurred page keeps the reading that makes it unreadable: its seal's corner is not re-read,
    not even for a date (read again in the same poor light it gives dates as poor)."""
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
    # The lines under the seal are read (the date among them): no date is then missing around it.
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


def _date_under_a_blurred_seal() -> tuple[np.ndarray, Box]:
    """A page with "日期：2025-09-28" in blue-black pen, a red seal ring and its text stamped over it,
    photographed soft: (page, the seal's box)."""
    import cv2
    from PIL import Image, ImageDraw, ImageFont

    from tests.ocr.helpers import FONT_PATH

    page = Image.new("RGB", (1000, 700), (246, 246, 242))
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT_PATH, 30, index=0)
    draw.text((120, 120), "诊断：2型糖尿病", fill=(30, 30, 30), font=font)
    draw.text((560, 380), "日期：2025-09-28", fill=(40, 45, 110), font=font)
    image = np.asarray(page)[:, :, ::-1].copy()
    centre, radius = (700, 360), 110
    cv2.circle(image, centre, radius, (50, 50, 215), 7)
    seal_font = ImageFont.truetype(FONT_PATH, 26, index=0)
    overlay = Image.fromarray(image[:, :, ::-1].copy())
    ImageDraw.Draw(overlay).text((560, 388), "诊断证明专用章", fill=(215, 50, 50), font=seal_font)
    image = np.asarray(overlay)[:, :, ::-1].copy()
    image = cv2.GaussianBlur(image, (0, 0), 1.6)
    box = Box(x0=centre[0] - radius, y0=centre[1] - radius, x1=centre[0] + radius, y1=centre[1] + radius)
    return image, box


def test_a_date_a_seal_was_stamped_over_is_read_in_the_red_channel(prescreener: Prescreener) -> None:
    """GIVEN no date read around a seal whose ink a soft photo blurred into the date under it
    THEN the area read again in its red channel gives the date; a page that has a date there is
    not read again."""
    from intake.prescreen import holds_a_date
    from ocr.reread import read_area, read_seal_dates

    image, seal = _date_under_a_blurred_seal()
    found = read_seal_dates(prescreener.engine, image, seal, [], has_date=holds_a_date)
    assert any("2025-09-28" in line.text for line in found), [line.text for line in found]
    # What the same area gives with the red only faded: the seal's words, no date.
    area = Box(x0=seal.x0 - 0.8 * seal.width, y0=seal.y0 - 0.6 * seal.height,
               x1=seal.x1 + 0.8 * seal.width, y1=seal.y1 + 0.6 * seal.height)
    assert not any(holds_a_date(line.text) for line in read_area(prescreener.engine, image, area))
    assert all(seal.x0 - 0.8 * seal.width <= line.box.x0 for line in found)  # in page coordinates
    already = OcrLine(text="日期：2025-09-28", box=Box(x0=560, y0=380, x1=800, y1=412), score=0.9)
    assert read_seal_dates(prescreener.engine, image, seal, [already], has_date=holds_a_date) == []


def test_the_red_channel_lifts_a_seal_and_keeps_print_and_pen() -> None:
    from ocr.reread import red_channel

    image = np.full((4, 4, 3), 250, np.uint8)
    image[0, 0] = (40, 40, 220)  # seal red (BGR)
    image[1, 1] = (30, 30, 30)  # black print
    image[2, 2] = (120, 40, 20)  # blue pen
    grey = red_channel(image)
    assert grey.shape == image.shape and tuple(grey[0, 0]) == (220, 220, 220)
    assert tuple(grey[1, 1]) == (30, 30, 30) and tuple(grey[2, 2]) == (20, 20, 20)


def test_a_date_read_with_its_year_cut_short_is_read_again_in_the_red_channel(prescreener: Prescreener) -> None:
    """GIVEN the first reading of a date under a blurred seal kept only a remnant ("日期：202-09-28",
    a year digit lost in the red) WHEN the dates are read again THEN the area around the remnant,
    where faded red reads no date, is read in the red channel and the whole date replaces it."""
    from classifiers.dates import find_dates
    from classifiers.text import fold
    from ocr.reread import read_area
    from ocr.types import OcrPage, OcrResult

    image, _seal = _date_under_a_blurred_seal()
    remnant = OcrLine(text="日期：202-09-28", box=Box(x0=560, y0=382, x1=800, y1=412), score=0.8)
    lines = [OcrLine(text="诊断：2型糖尿病", box=Box(x0=120, y0=122, x1=340, y1=152), score=0.99), remnant]
    ocr = OcrResult(media_type="image/jpeg", fingerprint="test",
                    pages=[OcrPage(index=0, width=1000, height=700, source="ocr", lines=lines)])
    area = Box(x0=560 - 3 * 30, y0=382 - 0.6 * 30, x1=800 + 6 * 30, y1=412 + 0.6 * 30)
    assert not any(find_dates(fold(line.text)) for line in read_area(prescreener.engine, image, area))
    prescreener.read_dates_again(ocr, [image])
    texts = [line.text for line in ocr.pages[0].lines]
    assert any("2025-09-28" in text for text in texts), texts
    assert "日期：202-09-28" not in texts


def _soft_small_photo(data: bytes, *, scale: float, blur: float, fade: float, quality: int) -> bytes:
    """A photo taken from further away, a little out of focus and washed out, saved as a small JPEG."""
    import cv2

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    image = cv2.GaussianBlur(image, (0, 0), blur)
    image = (image.astype(np.float32) * fade + 255 * (1 - fade)).astype(np.uint8)
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()


def test_a_small_date_a_seal_ring_crosses_on_a_soft_photo_is_read_enlarged(prescreener: Prescreener) -> None:
    """GIVEN a certificate photographed small, soft and washed out (tuning generator, seed 3084), its
    issue date 2025/10/26 under the seal's ring read as part of the seal's words THEN the area
    around the seal is read in its red channel, enlarged when as it is the ring turns the month's 1
    into a 6, and the certificate has its date."""
    import datetime as dt

    from fixtures.generator.document import generate_document
    from fixtures.generator.spec import DocumentSpec
    from intake.application import Application

    doc = generate_document(DocumentSpec(seed=3084, doc_type="diagnosis_certificate", source="photo",
                                         seal="issuer", region="shennongjia"))
    assert doc.truth["doc_date"] == "2025-10-26"
    data = _soft_small_photo(doc.data, scale=0.59, blur=0.89, fade=0.57, quality=59)
    application = Application(applicant_name=doc.truth["patient_name"], id_number="11010519491231002X",
                              disease=doc.truth["claimed_disease"], region="shennongjia",
                              application_date=dt.date.fromisoformat(doc.truth["application_date"]))
    report = prescreener.analyse_file("cert.jpg", data, application, prescreener.policies.for_region("shennongjia"))
    assert report.doc_type == "diagnosis_certificate"
    assert report.fields["doc_date"] == "2025-10-26"
