"""Region policies are data: defaults from the seed materials, regions override only what they name."""

import datetime as dt
from pathlib import Path

import pytest

from classifiers.types import DocType
from intake.errors import PolicyError
from intake.policy import PolicyBook
from intake.settings import POLICIES_DIR


@pytest.fixture(scope="module")
def book() -> PolicyBook:
    return PolicyBook.load(POLICIES_DIR)


def test_the_three_regions_and_the_default_are_loaded(book: PolicyBook) -> None:
    assert set(book.regions) == {"default", "绥化市", "神农架林区", "六盘水市"}


def test_defaults_follow_the_seed_materials(book: PolicyBook) -> None:
    policy = book.for_region("default")
    materials = {"identity_proof", "diagnosis_certificate", "clinical_record", "lab_report"}
    assert set(policy.required_materials) == materials
    assert set(policy.required_materials["clinical_record"].doc_types) == {
        DocType.DISCHARGE_SUMMARY,
        DocType.MEDICAL_RECORD,
    }
    assert set(policy.seal_required) == {DocType.DIAGNOSIS_CERTIFICATE, DocType.LAB_REPORT}
    assert policy.min_grade == {DocType.DIAGNOSIS_CERTIFICATE: "二级"}
    assert policy.recency_limit_days[DocType.LAB_REPORT] == 90
    assert policy.recency_limit_days[DocType.DISCHARGE_SUMMARY] == 365
    assert policy.recency_limit_days[DocType.DIAGNOSIS_CERTIFICATE] == 365


def test_a_region_overrides_only_what_it_names(book: PolicyBook) -> None:
    lps = book.for_region("六盘水市")
    assert lps.review_sla_working_days == 0.5  # seed: 提交後0.5個工作日內完成審核
    assert lps.recency_limit_days[DocType.LAB_REPORT] == 90  # inherited
    assert "pathology_report" in lps.materials_for("恶性肿瘤")
    assert "pathology_report" not in lps.materials_for("糖尿病")
    assert book.for_region("神农架林区").review_sla_working_days == 3  # no deadline stated: the default


def test_an_unknown_region_gets_the_default_policy(book: PolicyBook) -> None:
    assert book.for_region("哈尔滨市").region == "default"


def test_context_carries_the_rules_for_the_document_type(book: PolicyBook) -> None:
    policy = book.for_region("绥化市")
    kwargs = {"application_date": dt.date(2026, 3, 5), "applicant_name": "张三", "id_number": "X", "disease": "糖尿病"}
    cert = policy.context_for(DocType.DIAGNOSIS_CERTIFICATE, **kwargs)  # type: ignore[arg-type]
    assert cert.seal_required and cert.min_grade == "二级" and cert.recency_limit_days == 365
    record = policy.context_for(DocType.DISCHARGE_SUMMARY, **kwargs)  # type: ignore[arg-type]
    assert not record.seal_required and record.min_grade is None


def test_review_due_counts_chinese_working_days(book: PolicyBook) -> None:
    policy = book.for_region("default")  # 3 working days
    # Friday 2026-09-25: the National Day holiday (10-01..10-08 in 2026) pushes the third working day far out.
    due = policy.review_due(dt.date(2026, 3, 6))  # a Friday
    assert due == dt.date(2026, 3, 11)  # Mon, Tue, Wed
    # Half a working day (the SLA pinned here: regions' own SLAs follow their seeds and may change).
    half_day_policy = policy.model_copy(update={"review_sla_working_days": 0.5})
    half_day = half_day_policy.review_due(dt.date(2026, 3, 7))  # a Saturday
    assert half_day == dt.date(2026, 3, 9)
    assert half_day_policy.review_deadline(dt.date(2026, 3, 7)).estimated is False


def test_a_malformed_policy_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "default.yaml").write_text((POLICIES_DIR / "default.yaml").read_text(encoding="utf-8"), "utf-8")
    (tmp_path / "bad.yaml").write_text("region: 某市\nrecency_limit_days: 九十\n", "utf-8")
    with pytest.raises(PolicyError, match=r"bad\.yaml"):
        PolicyBook.load(tmp_path)


def test_a_policies_dir_without_default_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"default\.yaml"):
        PolicyBook.load(tmp_path)


def test_a_kind_of_other_has_its_own_recency_limit_and_needs_other_among_the_types() -> None:
    """Issue 14: a treatment record is an `other` document of kind treatment_record; its recency limit
    is its kind's (365 days) where the type's is none, and a rule naming kinds must name `other`."""
    from pydantic import ValidationError

    from intake.policy import MaterialRule

    policy = PolicyBook.load(POLICIES_DIR).for_region("绥化市")
    assert policy.recency_limit(DocType.OTHER, "treatment_record") == 365
    assert policy.recency_limit(DocType.OTHER, None) is None
    assert policy.recency_limit(DocType.OTHER, "relationship_proof") is None
    assert policy.recency_limit(DocType.LAB_REPORT, "treatment_record") == 90  # a kind is of `other` only
    rule = policy.materials_for("恶性肿瘤")["special_treatment"]
    assert rule.of_its_type(DocType.OTHER, "medication_record") and not rule.of_its_type(DocType.OTHER, None)
    with pytest.raises(ValidationError, match="need `other`"):
        MaterialRule(doc_types=[DocType.LAB_REPORT], kinds=["treatment_record"], label="x")
    with pytest.raises(ValidationError):
        MaterialRule(doc_types=[DocType.OTHER], kinds=["invoice_of_sorts"], label="x")
