"""A name misread by a glyph on a poor photo is read as the applicant's when the line's pixels fit
that name nearly as well (``classifiers.identity.name_as_printed``); a look-alike name that is not
printed is never put in. Real OCR on a tuning-generator record degraded further."""

from __future__ import annotations

import datetime as dt
import random

import cv2
import numpy as np
import pytest

from fixtures.generator.document import generate_document
from fixtures.generator.spec import DocumentSpec
from intake.application import Application
from intake.prescreen import Prescreener

pytestmark = pytest.mark.ocr


def harsh_photo(seed: int) -> tuple[bytes, dict]:
    """The degradation probe's record for ``seed``: a photo of a sealed outpatient record, downscaled,
    maybe blurred and faded, saved as a poor JPEG."""
    rng = random.Random(seed)
    source = rng.choice(["photo", "scan"])
    region = rng.choice(["liupanshui", "shennongjia", "suihua"])
    doc = generate_document(DocumentSpec(seed=seed, doc_type="medical_record", source=source, seal="issuer",
                                         region=region))
    img = cv2.imdecode(np.frombuffer(doc.data, np.uint8), cv2.IMREAD_COLOR)
    f = rng.uniform(0.45, 0.85)
    img = cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.6, 1.3))
    if rng.random() < 0.5:
        c = rng.uniform(0.55, 0.8)
        img = np.clip(255 - (255 - img.astype(np.float32)) * c, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(35, 70)])
    assert ok
    return buf.tobytes(), doc.truth


def report_for(prescreener: Prescreener, data: bytes, applicant: str):
    application = Application(applicant_name=applicant, id_number="110101199003070012", disease="高血压",
                              region="default", application_date=dt.date(2026, 3, 20))
    return prescreener.analyse_file("门诊病历.jpg", data, application, prescreener.policies.for_region("default"))


def test_a_glyph_misread_on_a_poor_photo_is_read_as_the_applicants_name(prescreener: Prescreener) -> None:
    data, truth = harsh_photo(70015)
    assert truth["patient_name"] == "陶媛姣"
    # Without the application's name to try, OCR's own reading shows: 姣 read as 蛟.
    assert report_for(prescreener, data, "李四").fields["patient_name"] == "陶媛蛟"
    report = report_for(prescreener, data, "陶媛姣")
    assert report.fields["patient_name"] == "陶媛姣"
    assert report.checks.identity.outcome.value == "pass"


@pytest.mark.parametrize("applicant", ["陶媛较", "陶嫒姣", "陶媛校"])
def test_a_look_alike_name_that_is_not_printed_stays_another_name(prescreener: Prescreener, applicant: str) -> None:
    data, _ = harsh_photo(70015)
    report = report_for(prescreener, data, applicant)
    assert report.fields["patient_name"] == "陶媛蛟"
    assert report.checks.identity.outcome.value != "pass"
