"""Diagnosis vs claimed 病种: support passes, a clear other disease fails, vague text is unknown."""

from __future__ import annotations

import pytest

from classifiers.diagnosis import DiseaseCatalogue, check_diagnosis
from classifiers.types import Outcome


@pytest.fixture(scope="module")
def catalogue() -> DiseaseCatalogue:
    return DiseaseCatalogue.load()


def test_find_accepts_names_and_aliases(catalogue: DiseaseCatalogue) -> None:
    assert catalogue.find("高血压病").name == "高血压病"  # type: ignore[union-attr]
    assert catalogue.find("慢阻肺").name == "慢性阻塞性肺疾病"  # type: ignore[union-attr]
    assert catalogue.find("２型糖尿病").name == "糖尿病"  # type: ignore[union-attr]  # full-width digit
    assert catalogue.find("感冒") is None


def test_icd10_table_is_loaded(catalogue: DiseaseCatalogue) -> None:
    assert catalogue.icd10_names["K35"] == "急性阑尾炎"
    assert len(catalogue.icd10_names) > 1500


@pytest.mark.parametrize(
    ("text", "claim", "term"),
    [
        ("1.高血压病3级 2.2型糖尿病", "糖尿病", "2型糖尿病"),  # one of several fits
        ("1.高血压病3级 2.2型糖尿病", "高血压病", "高血压病"),
        ("原发性高血压", "高血压", "原发性高血压"),
        ("高血压病 糖尿病史", "高血压病", "高血压病"),  # history of another disease does not matter
        ("特发性(原发性)高血压", "高血压病", None),  # ICD-10 category wording
        ("非胰岛素依赖型糖尿病", "糖尿病", "非胰岛素依赖型糖尿病"),  # E11 name
        ("Ⅱ型糖尿病", "糖尿病", None),
        ("诊断：2型糖尿病（E11.900）", "糖尿病", None),
        ("I10", "高血压病", "I10"),  # bare ICD code
        ("左肺腺癌术后化疗", "恶性肿瘤", None),
        ("冠状动脉粥样硬化性心脏病；不稳定型心绞痛", "冠心病", None),
        ("慢性肾脏病5期 维持性血液透析", "慢性肾功能衰竭", None),
        ("急性阑尾炎；2型糖尿病", "糖尿病", "2型糖尿病"),  # a support beats an unrelated disease
    ],
)
def test_supported_claim_passes(catalogue: DiseaseCatalogue, text: str, claim: str, term: str | None) -> None:
    check = check_diagnosis(text, claim, catalogue)
    assert check.outcome == Outcome.PASS, check
    assert check.disease == catalogue.find(claim).name  # type: ignore[union-attr]
    if term:
        assert check.matched_term == term


@pytest.mark.parametrize(
    ("text", "claim", "icd10"),
    [
        ("急性阑尾炎", "高血压病", "K35"),
        ("社区获得性肺炎", "冠心病", "J18"),
        ("胆囊结石伴慢性胆囊炎", "糖尿病", None),
        ("右股骨颈骨折", "高血压病", None),
        ("2型糖尿病", "高血压病", "E10-E14"),  # another 病种 of the catalogue
        ("痛风", "类风湿关节炎", "M10"),
    ],
)
def test_other_disease_without_support_fails(
    catalogue: DiseaseCatalogue, text: str, claim: str, icd10: str | None
) -> None:
    check = check_diagnosis(text, claim, catalogue)
    assert check.outcome == Outcome.FAIL, check
    assert check.reason and "不符" in check.reason
    if icd10:
        assert check.icd10 == icd10


@pytest.mark.parametrize(
    ("text", "claim"),
    [
        ("头晕待查", "高血压病"),  # symptom, not a diagnosis
        ("复查", "高血压病"),
        ("体检", "糖尿病"),
        ("咳嗽", "支气管哮喘"),
        ("", "糖尿病"),
        (None, "糖尿病"),
        ("否认糖尿病", "糖尿病"),  # negation is not support...
        ("否认高血压、糖尿病史", "糖尿病"),  # ...across a 、 list too
        ("无糖尿病", "糖尿病"),
        ("冠心病?", "冠心病"),  # suspicion
        ("糖尿病待排", "糖尿病"),
        ("糖尿病史", "高血压病"),  # history of another disease does not fail
        ("阑尾炎术后", "高血压病"),
        ("否认肺结核", "高血压病"),  # a negated other disease does not fail
    ],
)
def test_vague_negated_or_historic_text_is_unknown(catalogue: DiseaseCatalogue, text: str | None, claim: str) -> None:
    check = check_diagnosis(text, claim, catalogue)
    assert check.outcome == Outcome.UNKNOWN, check
    assert check.reason


def test_claim_not_in_catalogue_is_unknown_with_reason(catalogue: DiseaseCatalogue) -> None:
    check = check_diagnosis("高血压病", "脚气", catalogue)
    assert check.outcome == Outcome.UNKNOWN and "脚气" in (check.reason or "")
    assert check_diagnosis("高血压病", None, catalogue).outcome == Outcome.UNKNOWN
