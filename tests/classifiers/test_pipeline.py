"""analyse_document over a hand-made OCR result (no models): the checks see the policy's context and
the registry decides whether a seal belongs to the issuer."""

import datetime as dt

import numpy as np
import pytest

from classifiers.diagnosis import DiseaseCatalogue
from classifiers.hospital import HospitalRegistry
from classifiers.pipeline import analyse_document
from classifiers.types import DocType, DocumentContext, Outcome, SealFinding
from intake.settings import REPO_ROOT
from ocr.types import Box, OcrLine, OcrPage, OcrResult

LINES = [
    "绥化市第一医院",
    "疾病诊断证明书",
    "姓名：张三  性别：男  年龄：58岁",
    "科室：内分泌科  门诊号：20260301",
    "诊断：2型糖尿病",
    "医师签名：李四",
    "日期：2026年3月1日",
]


def certificate() -> OcrResult:
    lines = [OcrLine(text=t, box=Box(x0=100, y0=80 + 60 * i, x1=900, y1=120 + 60 * i), score=0.99)
             for i, t in enumerate(LINES)]
    page = OcrPage(index=0, width=1240, height=1754, source="ocr", lines=lines)
    return OcrResult(media_type="image/png", pages=[page], fingerprint="test")


@pytest.fixture(scope="module")
def registry() -> HospitalRegistry:
    return HospitalRegistry.from_csv(REPO_ROOT / "fixtures" / "registry" / "hospitals.csv")


def context(doc_type: DocType) -> DocumentContext:
    return DocumentContext(application_date=dt.date(2026, 3, 5), applicant_name="张三", disease="糖尿病",
                           seal_required=doc_type == DocType.DIAGNOSIS_CERTIFICATE,
                           min_grade="二级" if doc_type == DocType.DIAGNOSIS_CERTIFICATE else None,
                           recency_limit_days=365)


@pytest.mark.parametrize(
    ("seal_text", "outcome", "matches"),
    [
        ("绥化市第一医院", Outcome.PASS, True),
        ("绥化一院", Outcome.PASS, True),  # an alias of the issuer
        ("绥化市第二医院", Outcome.FAIL, False),  # same city, another hospital: text similarity alone can't tell
        (None, Outcome.PASS, None),  # a red seal whose text could not be read proves no mismatch
    ],
)
def test_the_registry_decides_whose_seal_it_is(registry: HospitalRegistry, seal_text, outcome, matches) -> None:
    seal = SealFinding(present=True, color="red", text=seal_text, page=0, score=0.9)
    blank = np.full((1754, 1240, 3), 255, np.uint8)
    analysis = analyse_document(certificate(), [blank], seal, context, registry=registry,
                                catalogue=DiseaseCatalogue.load())
    assert analysis.classification.doc_type == DocType.DIAGNOSIS_CERTIFICATE
    assert analysis.fields.doc_date is not None and analysis.fields.doc_date.value == "2026-03-01"
    assert analysis.checks.hospital.canonical_name == "绥化市第一医院"
    assert analysis.checks.hospital.outcome == Outcome.PASS
    assert analysis.checks.diagnosis.outcome == Outcome.PASS
    assert analysis.checks.seal.outcome == outcome
    assert analysis.checks.seal.matches_issuer is matches


def test_the_date_recency_counts_against_steers_the_date_picked(registry: HospitalRegistry) -> None:
    """GIVEN a certificate whose body names a follow-up after the application date (复诊 2026-04-01,
    unlabelled) besides its own issue date WHEN it is analysed for an application of 2026-03-05
    THEN its date is the issue date, not the later one, and recency passes; for an application after
    both dates the later one would have been taken."""
    lines = [*LINES[:5], "2026年4月1日", *LINES[5:6], "2026年3月1日"]
    ocr = certificate()
    ocr.pages[0].lines = [OcrLine(text=t, box=Box(x0=100, y0=80 + 60 * i, x1=900, y1=120 + 60 * i), score=0.99)
                          for i, t in enumerate(lines)]
    seal = SealFinding(present=True, color="red", text="绥化市第一医院", page=0, score=0.9)
    blank = np.full((1754, 1240, 3), 255, np.uint8)

    def analysed(on: dt.date):
        return analyse_document(ocr, [blank], seal, lambda t: context(t).model_copy(update={"application_date": on}),
                                registry=registry, catalogue=DiseaseCatalogue.load())

    early = analysed(dt.date(2026, 3, 5))
    assert early.fields.doc_date is not None and early.fields.doc_date.value == "2026-03-01"
    assert early.checks.recency.outcome == Outcome.PASS
    late = analysed(dt.date(2026, 5, 1))
    assert late.fields.doc_date is not None and late.fields.doc_date.value == "2026-04-01"


@pytest.mark.parametrize(("name_y", "sure"), [(80, True), (1500, False)])
def test_an_unregistered_issuer_is_sure_when_its_seal_bears_out_the_printed_name(
    registry: HospitalRegistry, name_y: int, sure: bool
) -> None:
    """A township clinic two characters from a registered one (红坪镇 / 松柏镇), its name printed at
    the top and spelt the same by its seal's ring: two readings of two prints agree, so
    ``hospital_unknown`` is sure. The same name read by the page's OCR off the seal's own ink (the
    only place it is on the page) is one print read twice: a question for a reviewer."""
    name = "神农架林区红坪镇卫生院"
    texts = [name if i == 0 else t for i, t in enumerate(LINES)]
    lines = [OcrLine(text=t, box=Box(x0=100, y0=80 + 60 * i, x1=900, y1=120 + 60 * i), score=0.99)
             for i, t in enumerate(texts) if i > 0]
    lines.append(OcrLine(text=name, box=Box(x0=700, y0=name_y, x1=1000, y1=name_y + 40), score=0.99))
    ocr = OcrResult(media_type="image/png", pages=[OcrPage(index=0, width=1240, height=1754, source="ocr",
                                                           lines=lines)], fingerprint="test")
    seal = SealFinding(present=True, color="red", text=name, page=0, score=0.9,
                       box=Box(x0=680, y0=1380, x1=1020, y1=1700))
    blank = np.full((1754, 1240, 3), 255, np.uint8)
    analysis = analyse_document(ocr, [blank], seal, context, registry=registry, catalogue=DiseaseCatalogue.load())
    hospital = analysis.checks.hospital
    assert analysis.fields.hospital_name is not None and analysis.fields.hospital_name.value == name
    assert hospital.outcome == Outcome.UNKNOWN
    assert (hospital.confidence >= 0.9) is sure, hospital
