"""Real public documents nobody on this project made (../shared/realworld, see its ATTRIBUTION.md):
phone photos of a 2016 blood-test report in every orientation, ID-card specimens, a red seal."""

import datetime as dt
import os

import cv2
import numpy as np
import pytest

from classifiers.types import DocType
from fixtures.realworld import REALWORLD, REALWORLD_TRUTH
from intake.application import Application
from intake.prescreen import Prescreener

pytestmark = pytest.mark.ocr

if not REALWORLD.is_dir():  # CI clones main with shared/ beside it; a lone clone may not have it
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"real-world samples not found at {REALWORLD}; CI must have shared/ beside the clone")
    pytest.skip(f"real-world samples not found at {REALWORLD} (set INTAKE_REALWORLD_DIR)", allow_module_level=True)

APP = Application(applicant_name="孟丁", id_number="110105194912310029", disease="糖尿病",
                  application_date=dt.date(2016, 9, 1))
LAB_PHOTOS = sorted(p.name for p in REALWORLD.glob("lab_np2016_bloodtest*.jpg"))


def analyse(prescreener: Prescreener, data: bytes, name: str):
    policy = prescreener.policies.for_region("default")
    return prescreener.analyse_file(name, data, APP, policy)


@pytest.mark.parametrize("name", LAB_PHOTOS)
def test_lab_report_photos_are_lab_reports_dated_2016_08_24(prescreener: Prescreener, name: str) -> None:
    report = analyse(prescreener, (REALWORLD / name).read_bytes(), name)
    assert report.error is None
    assert report.doc_type == DocType.LAB_REPORT
    assert report.fields["doc_date"] == "2016-08-24"
    assert report.checks.seal.present is False  # this report carries no seal
    assert report.checks.quality.outcome == "pass"


@pytest.mark.parametrize("rotation", [cv2.ROTATE_180, cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE])
def test_lab_report_whichever_way_up(prescreener: Prescreener, rotation: int) -> None:
    image = cv2.imread(str(REALWORLD / "lab_np2016_bloodtest2_upright_photo.jpg"))
    ok, encoded = cv2.imencode(".jpg", cv2.rotate(image, rotation))
    assert ok
    report = analyse(prescreener, encoded.tobytes(), f"rotated-{rotation}.jpg")
    assert report.doc_type == DocType.LAB_REPORT
    assert report.fields["doc_date"] == "2016-08-24"


SPECIMEN_NAMES = {"idcard_front_specimen_chineseocr_weixiaobao.jpg": "韦小宝"}


@pytest.mark.parametrize("name", sorted(p.name for p in REALWORLD.glob("idcard_front_specimen_*")))
def test_id_card_specimens_are_id_cards(prescreener: Prescreener, name: str) -> None:
    report = analyse(prescreener, (REALWORLD / name).read_bytes(), name)
    assert report.doc_type == DocType.ID_CARD
    assert report.identity_kind == "resident_id_front"
    assert report.fields["patient_name"]
    if name in SPECIMEN_NAMES:
        # The joke card (born 1654): its last digit is misread, and no such number is valid anyway.
        assert report.fields["patient_name"] == SPECIMEN_NAMES[name]
    else:
        assert report.fields["id_number"] and len(report.fields["id_number"]) == 18


def test_the_seal_image_is_a_red_seal(prescreener: Prescreener) -> None:
    data = (REALWORLD / "seal_paddleocr_test_seal.png").read_bytes()
    outcome = prescreener.read(data, "realworld-seal")
    assert outcome.seal.present and outcome.seal.color == "red"
    blue = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]  # swap red and blue
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(blue))
    assert ok
    assert prescreener.read(encoded.tobytes(), "realworld-seal-blue").seal.present is False


@pytest.mark.parametrize("name", sorted(REALWORLD_TRUTH))
def test_every_real_file_is_read_right(prescreener: Prescreener, name: str) -> None:
    """Each real file against its truth (fixtures/realworld.py): the figures bench_accuracy prints."""
    from fixtures.scoring import SetScore

    truth = REALWORLD_TRUTH[name]
    report = analyse(prescreener, (REALWORLD / name).read_bytes(), name)
    score = SetScore("realworld")
    score.score_document(report, {"file": name, **truth}, prescreener.registry)
    misses = [miss for tally in score.documents.values() for miss in tally.misses]
    assert misses == []
    assert sum(tally.total for tally in score.documents.values()) >= 2
    if "id_valid" in truth:
        assert report.checks.identity.id_valid is truth["id_valid"]
