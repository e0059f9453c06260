"""The signature detector (``classifiers.signature``) on rendered pages: pen strokes, a name stamp,
the 楷体 name the generator has always drawn, a printed name, and an empty signature area.

Pages are drawn with the generator's own page model and signature drawing (``fixtures.generator``),
then read as a photo would be: the OCR lines are the ones a reader returns for such a page (the
label read, the scrawl not), so these tests need no OCR models. One test at the end runs the real
OCR over generated outpatient records."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from classifiers.signature import check_signature, find_signature_areas, read_area
from classifiers.types import Outcome, SealFinding
from fixtures.generator.page import A4, INK, Page
from fixtures.generator.signatures import name_stamp, scrawl
from ocr.types import Box, OcrLine, OcrPage, OcrResult

SIZE = 22
LABEL = "医师签名："
LABEL_X, BASE_Y = 700.0, 900.0
NO_SEAL = SealFinding(present=False)


def draw(kind: str, *, seed: int = 1, pen: tuple[int, int, int] = (20, 40, 120)) -> tuple[np.ndarray, OcrResult]:
    """An outpatient record's foot: a line of print above, the label, and ``kind`` beside it."""
    rng = random.Random(seed)
    page = Page(*A4)
    lines: list[OcrLine] = []

    def printed(x: float, y: float, text: str, score: float = 0.99) -> float:
        w = page.text(x, y, text, SIZE, color=INK)
        lines.append(OcrLine(text=text, box=Box(x0=x - 2, y0=y - SIZE * 1.05, x1=x + w + 2, y1=y + SIZE * 0.35),
                             score=score))
        return w

    printed(90, BASE_Y - 190, "现病史：口干多饮多尿3年，空腹血糖反复高于7.0mmol/L。")
    printed(90, BASE_Y - 130, "诊断：2型糖尿病")
    printed(90, BASE_Y - 70, "处理：予二甲双胍治疗，规律服药，定期复查。")
    x = LABEL_X + page.measure(LABEL, SIZE) + 8
    if kind == "printed":
        printed(LABEL_X, BASE_Y, LABEL + "张建国")
    else:
        printed(LABEL_X, BASE_Y, LABEL)
    if kind == "pen":
        page.image(x, BASE_Y - 30, scrawl(rng, 80, 38, color=pen), w=80, h=38)
    elif kind == "stamp":
        page.image(x + 4, BASE_Y - 34, name_stamp("张建国", rng, color=(205, 30, 40)), w=44, h=44)
    elif kind == "kai":
        page.text(x, BASE_Y + 4, "张建国", SIZE * 1.35, font="kai", color=(20, 40, 120))
    image = cv2.cvtColor(np.asarray(page.render(1.0)), cv2.COLOR_RGB2BGR)
    ocr = OcrResult(media_type="image/png", fingerprint="test",
                    pages=[OcrPage(index=0, width=A4[0], height=A4[1], source="ocr", lines=lines)])
    return image, ocr


def signature_of(kind: str, **kw: object) -> object:
    image, ocr = draw(kind, **kw)  # type: ignore[arg-type]
    return check_signature(ocr, [image], NO_SEAL, required=True)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("pen", [(20, 40, 120), (30, 30, 35)], ids=["blue", "black"])
def test_pen_strokes_beside_the_label_are_a_handwritten_signature(seed: int, pen: tuple[int, int, int]) -> None:
    check = signature_of("pen", seed=seed, pen=pen)
    assert check.outcome == Outcome.PASS
    assert check.kind == "handwritten" and check.present is True
    assert check.label == "医师签名"
    assert check.confidence >= 0.8


def test_a_red_name_stamp_is_a_signature_and_is_told_as_a_stamp() -> None:
    check = signature_of("stamp")
    assert (check.outcome, check.kind, check.present) == (Outcome.PASS, "stamp", True)


def test_the_generators_blue_kai_name_counts_as_signed() -> None:
    """Every generated record before signatures were modelled had this: it stays signed."""
    check = signature_of("kai")
    assert (check.outcome, check.kind) == (Outcome.PASS, "handwritten")


def test_an_empty_signature_area_fails_with_its_box() -> None:
    check = signature_of("empty")
    assert check.outcome == Outcome.FAIL
    assert check.kind == "none" and check.present is False
    assert check.confidence >= 0.9  # the page was read well and the area is paper
    x0, y0, x1, y1 = check.box
    assert x0 <= LABEL_X + 1 and x1 > LABEL_X + 150 and y0 < BASE_Y < y1
    assert "医师签名" in check.reason


def faded(image: np.ndarray, keep: float, blur: float) -> np.ndarray:
    """A washed-out copy: every ink lifted towards the paper (thin toner, an over-exposed photo) and
    softened, as a faint pen line becomes on a poor scan."""
    lifted = (255 - (255 - image.astype(np.float32)) * keep).clip(0, 255).astype(np.uint8)
    return cv2.GaussianBlur(lifted, (0, 0), blur)


def test_on_a_faded_page_an_empty_looking_area_is_only_a_reviewers_question() -> None:
    """GIVEN the same pages washed out until the print is faint THEN an empty area is still a FAIL,
    but no longer sure enough (< 0.8) to tell the applicant: a faint signature could have vanished."""
    image, ocr = draw("empty")
    check = check_signature(ocr, [faded(image, 0.18, 1.2)], NO_SEAL, required=True)
    assert (check.outcome, check.kind) == (Outcome.FAIL, "none")
    assert check.confidence < 0.8
    clear = check_signature(ocr, [image], NO_SEAL, required=True)
    assert clear.confidence >= 0.9


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_on_a_faded_page_faint_pen_strokes_are_still_a_signature(seed: int) -> None:
    """Black pen lifted to a quarter of its darkness is read as a signature against the page's faint
    print; fainter still, a stroke may be lost, but then the FAIL is never sure enough to tell."""
    image, ocr = draw("pen", seed=seed, pen=(30, 30, 35))
    check = check_signature(ocr, [faded(image, 0.25, 1.2)], NO_SEAL, required=True)
    assert (check.outcome, check.kind) == (Outcome.PASS, "handwritten")
    fainter = check_signature(ocr, [faded(image, 0.18, 1.2)], NO_SEAL, required=True)
    assert fainter.outcome == Outcome.PASS or fainter.confidence < 0.8


def test_a_printed_name_is_no_hand_signature_unless_the_policy_accepts_it() -> None:
    image, ocr = draw("printed")
    strict = check_signature(ocr, [image], NO_SEAL, required=True)
    assert (strict.outcome, strict.kind) == (Outcome.FAIL, "printed_name")
    assert strict.confidence < 0.8  # a reviewer's call, never told to the applicant by default
    lenient = check_signature(ocr, [image], NO_SEAL, required=True, printed_name_ok=True)
    assert (lenient.outcome, lenient.kind) == (Outcome.PASS, "printed_name")


def test_the_hospitals_round_seal_over_an_empty_area_is_not_the_doctors_signature() -> None:
    image, ocr = draw("empty")
    rng = random.Random(3)
    from fixtures.generator.seal import SealStyle, render_seal

    seal_img = cv2.cvtColor(np.asarray(render_seal(SealStyle("六盘水市人民医院"), rng, px=240).convert("RGBA")),
                            cv2.COLOR_RGBA2BGRA)
    x, y = int(LABEL_X + 110), int(BASE_Y - 120)
    alpha = seal_img[..., 3:4].astype(np.float32) / 255
    region = image[y : y + 240, x : x + 240].astype(np.float32)
    image[y : y + 240, x : x + 240] = (region * (1 - alpha) + seal_img[..., :3] * alpha).astype(np.uint8)
    seal = SealFinding(present=True, color="red", page=0, box=Box(x0=x, y0=y, x1=x + 240, y1=y + 240), score=0.9)
    assert check_signature(ocr, [image], seal, required=True).outcome == Outcome.FAIL
    # Without the seal finding its red ring would look like ink: the box is what tells them apart.
    assert check_signature(ocr, [image], NO_SEAL, required=True).outcome == Outcome.PASS


def test_no_signature_label_is_unknown_and_not_required_is_not_applicable() -> None:
    image, ocr = draw("pen")
    page = ocr.pages[0]
    unlabelled = OcrResult(media_type="image/png", fingerprint="t", pages=[
        page.model_copy(update={"lines": [ln for ln in page.lines if "签名" not in ln.text]})])
    check = check_signature(unlabelled, [image], NO_SEAL, required=True)
    assert check.outcome == Outcome.UNKNOWN and check.confidence <= 0.5
    assert check_signature(ocr, [image], NO_SEAL, required=False).outcome == Outcome.NOT_APPLICABLE


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("医师签名：张三", ["医师签名"]),
        ("主治医师：", ["主治医师"]),
        ("检验者：马丽  审核者：何军", ["检验者", "审核者"]),
        ("科主任：王建国 主治医师：李四 编码员：张敏", ["科主任", "主治医师"]),
        ("遵医师嘱咐按时服药", []),  # 医师 in a sentence is no label
        ("患者签名：", []),  # the patient's signature is not the doctor's
    ],
)
def test_signature_labels_are_found_in_ocr_lines(text: str, labels: list[str]) -> None:
    line = OcrLine(text=text, box=Box(x0=100, y0=500, x1=100 + 24 * len(text), y1=530), score=0.99)
    ocr = OcrResult(media_type="image/png", fingerprint="t",
                    pages=[OcrPage(index=0, width=1240, height=1754, source="ocr", lines=[line])])
    areas = find_signature_areas(ocr)
    assert sorted(a.label for a in areas) == sorted(labels)
    if len(areas) == 2 and "检验者" in labels:  # each area stops where the next field begins
        first, second = sorted(areas, key=lambda a: a.area.x0)
        assert first.area.x1 <= second.label_box.x0


def test_reading_an_area_is_cheap() -> None:
    """No OCR: a few milliseconds a page (bench/bench_pipeline.py shows the figure per page)."""
    import time

    image, ocr = draw("pen")
    area = find_signature_areas(ocr)[0]
    start = time.perf_counter()
    for _ in range(20):
        reading = read_area(image, area, ocr.pages[0].lines, NO_SEAL)
    per_call = (time.perf_counter() - start) / 20
    assert reading.kind == "handwritten"
    print(f"\nread_area: {1000 * per_call:.2f} ms")


@pytest.mark.ocr
@pytest.mark.parametrize(("kind", "outcome"), [("handwritten", Outcome.PASS), ("stamp", Outcome.PASS),
                                               ("kai", Outcome.PASS), ("empty", Outcome.FAIL)])
def test_generated_outpatient_records_through_the_real_ocr(kind: str, outcome: Outcome) -> None:
    from classifiers.seal import find_seal
    from fixtures.generator import DocumentSpec, generate_document
    from intake.settings import Settings
    from ocr import OcrEngine, read_document

    doc = generate_document(DocumentSpec(seed=503, doc_type="medical_record", variant="outpatient", layout=1,
                                         source="scan", image_format="png", seal="none", signature=kind,
                                         region="六盘水市"))
    read = read_document(doc.data, OcrEngine(Settings().ocr))
    check = check_signature(read.ocr, read.images, find_seal(read.images), required=True)
    assert check.outcome == outcome, check


def test_a_stored_check_judged_again_under_a_changed_policy() -> None:
    """The re-scan's assessment depth: what a policy change decides without the pixels, and where
    the signature areas must be read again (None)."""
    from classifiers.signature import signature_under_policy
    from classifiers.types import SignatureCheck

    empty = SignatureCheck(outcome=Outcome.FAIL, confidence=0.9, present=False, kind="none")
    printed_fail = SignatureCheck(outcome=Outcome.FAIL, confidence=0.6, present=False, kind="printed_name")
    printed_pass = SignatureCheck(outcome=Outcome.PASS, confidence=0.8, present=False, kind="printed_name")
    unjudged = SignatureCheck(outcome=Outcome.NOT_APPLICABLE)
    assert signature_under_policy(empty, required=True, printed_name_ok=True) is empty
    assert signature_under_policy(empty, required=False, printed_name_ok=False).outcome == Outcome.NOT_APPLICABLE
    assert signature_under_policy(unjudged, required=True, printed_name_ok=False) is None
    assert signature_under_policy(printed_fail, required=True, printed_name_ok=True) is None
    assert signature_under_policy(printed_pass, required=True, printed_name_ok=False) is None
    assert signature_under_policy(printed_pass, required=True, printed_name_ok=True) is printed_pass
