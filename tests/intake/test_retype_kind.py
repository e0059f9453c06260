"""A reviewer re-types a document to one of the report contract's six types, and an `other` one to
its kind (issue 14): the kind decides which material it satisfies, and never outlives its type."""

from __future__ import annotations

import datetime as dt

import pytest

from classifiers.types import DocType
from intake.application import Application
from intake.assess import assess
from intake.models import FieldEdit
from intake.policy import PolicyBook
from intake.report import DocumentReport
from intake.settings import POLICIES_DIR
from intake.workspace.overlay import DOC_TYPE, KIND, apply_edits
from tests.intake.test_assess import complete, doc

CLAIM = Application(applicant_name="张三", id_number="110105194912310029", disease="尿毒症透析", region="绥化市",
                    application_date=dt.date(2026, 3, 5))


@pytest.fixture(scope="module")
def book() -> PolicyBook:
    return PolicyBook.load(POLICIES_DIR)


def edit(field: str, value: str | None) -> FieldEdit:
    return FieldEdit(application_id="a", document_id="d", field=field, value=value, previous=None, reason="", user_id=1)


def misread() -> DocumentReport:
    """A dialysis record the classifier took for an outpatient record."""
    return doc("dialysis.jpg", DocType.MEDICAL_RECORD, text="血液透析记录单 透析方式 HD")


def test_retyping_to_other_with_a_kind_satisfies_the_material_that_names_it(book: PolicyBook) -> None:
    policy = book.for_region(CLAIM.region)
    before = assess(CLAIM, policy, [*complete(), misread()], submitted=CLAIM.application_date)
    assert before.problems == ["missing:dialysis_record"]
    fixed = apply_edits(misread(), {DOC_TYPE: edit(DOC_TYPE, "other"), KIND: edit(KIND, "treatment_record")},
                        policy=policy, application=CLAIM)
    assert (fixed.doc_type, fixed.kind, fixed.kind_scores) == (DocType.OTHER, "treatment_record",
                                                                 {"treatment_record": 1.0})
    after = assess(CLAIM, policy, [*complete(), fixed], submitted=CLAIM.application_date)
    assert after.problems == [] and after.materials["dialysis_record"] == ["dialysis.jpg"]
    assert fixed.contract()["doc_type"] == "other" and fixed.contract()["kind"] == "treatment_record"


def test_a_kind_never_outlives_its_type(book: PolicyBook) -> None:
    """A kind edit applies to an `other` document only; re-typing away from the read type drops
    what the document was read as within it (an id_card's identity kind, an `other` one's kind)."""
    policy = book.for_region(CLAIM.region)
    record = misread()
    record.doc_type, record.kind = DocType.OTHER, "medication_record"
    as_lab = apply_edits(record, {DOC_TYPE: edit(DOC_TYPE, "lab_report"), KIND: edit(KIND, "treatment_record")},
                         policy=policy, application=CLAIM)
    assert (as_lab.doc_type, as_lab.kind, as_lab.identity_kind) == (DocType.LAB_REPORT, None, None)
    card = doc("id.jpg", DocType.ID_CARD, "resident_id_front")
    retyped = apply_edits(card, {DOC_TYPE: edit(DOC_TYPE, "other")}, policy=policy, application=CLAIM)
    assert (retyped.kind, retyped.identity_kind) == (None, None)
    plain = apply_edits(record, {DOC_TYPE: edit(DOC_TYPE, "other"), KIND: edit(KIND, None)}, policy=policy,
                        application=CLAIM)
    assert (plain.doc_type, plain.kind) == (DocType.OTHER, None)
