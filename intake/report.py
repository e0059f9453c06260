"""The pre-screening report: the JSON contract of DESIGN.md (keys may be added, never renamed)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, computed_field, model_validator

from classifiers.types import (
    DiagnosisCheck,
    DocType,
    DocumentChecks,
    HospitalCheck,
    IdentityCheck,
    Outcome,
    QualityCheck,
    RecencyCheck,
    SealCheck,
)

FIELD_NAMES = ("patient_name", "gender", "id_number", "hospital_name", "department", "diagnosis", "doc_date")


class Verdict(StrEnum):
    READY_FOR_REVIEW = "ready_for_review"
    NEEDS_SUPPLEMENT = "needs_supplement"


class FieldSource(BaseModel):
    page: int
    box: list[float] | None = None  # x0, y0, x1, y1 in normalised page pixels
    confidence: float | None = None  # how well the text it was read from was recognised, 0..1


class Evidence(BaseModel):
    """What a problem or a reviewer flag rests on: where it was seen, what was read there, what the
    rule expected, which rule, and how sure the pre-screen is (0..1)."""

    code: str  # the problem code, e.g. "stale:化验单.jpg"
    file: str | None = None  # None for a missing material
    page: int | None = None
    box: list[float] | None = None  # x0, y0, x1, y1 in normalised page pixels
    read: str | None = None
    expected: str | None = None
    rule: str
    confidence: float
    reason: str | None = None  # in plain words, for the reviewer


class DocumentReport(BaseModel):
    file: str
    sha256: str
    document_id: str | None = None
    round: int = 1  # the submission round it was uploaded for
    media_type: str | None = None
    pages: int = 0
    doc_type: DocType | None = None
    # What the document is within its type (classifiers.types.Classification.kind): an id_card's
    # identity kind, an `other` document's OtherKind (relationship_proof, treatment_record,
    # medication_record) or None. ``doc_type`` stays within the contract's six types.
    kind: str | None = None
    confidence: float = 0.0
    type_scores: dict[str, float] = {}  # every document type's probability, from the classifier
    kind_scores: dict[str, float] = {}  # every OtherKind's probability, from the classifier
    error: str | None = None  # why the file could not be read at all, in plain Chinese
    error_code: str | None = None
    error_detail: str | None = None  # the technical cause, for operators only: never in the report
    fields: dict[str, str | None] = dict.fromkeys(FIELD_NAMES)
    # Where on which page each field (and the seal, as "seal") was read, and how well.
    field_sources: dict[str, FieldSource] = {}
    extra_fields: dict[str, str] = {}  # ID card: ethnicity, birth_date, address, issuing_authority, …
    checks: DocumentChecks
    seal_color: str | None = None
    problems: list[str] = []
    review_flags: list[str] = []  # possible problems too weakly evidenced to tell the applicant
    # 补正: the later document (same material, no problem) that cleared this one's problems.
    cleared_by: str | None = None
    ocr_cached: bool = False
    ocr_seconds: float = 0.0
    text: str = ""  # the OCR text, for reviewers and keyword rules

    @model_validator(mode="before")
    @classmethod
    def _kind_from_identity_kind(cls, data: Any) -> Any:
        """Reports stored before ``kind`` carry an id_card's kind as ``identity_kind`` only."""
        if isinstance(data, dict) and data.get("kind") is None and data.get("identity_kind"):
            data = {**data, "kind": data["identity_kind"]}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def identity_kind(self) -> str | None:
        """An id_card's kind under the report key apps already read (None for every other type)."""
        return self.kind if self.doc_type == DocType.ID_CARD else None

    def contract(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"text", "error_detail"})


def unknown_checks(reason: str) -> DocumentChecks:
    """Checks of a document that could not be read: nothing is known."""
    unknown = Outcome.UNKNOWN
    return DocumentChecks(
        seal=SealCheck(outcome=unknown, present=False, reason=reason),
        hospital=HospitalCheck(outcome=unknown, reason=reason),
        recency=RecencyCheck(outcome=unknown, reason=reason),
        identity=IdentityCheck(outcome=unknown, reason=reason),
        quality=QualityCheck(outcome=Outcome.FAIL, problems=["unreadable_file"], reason=reason),
        diagnosis=DiagnosisCheck(outcome=unknown, reason=reason),
    )


class Report(BaseModel):
    case_id: str
    application_id: str | None = None
    round: int = 1
    verdict: Verdict
    problems: list[str]  # what the applicant is told to fix (and only that)
    notice: str
    documents: list[DocumentReport]
    evidence: list[Evidence] = []  # one per problem, in the same order
    # Possible problems whose evidence is too weak to tell the applicant: for reviewers only.
    review_flags: list[Evidence] = []
    applicant_name: str
    id_number: str
    disease: str
    region: str
    # 代办: the agent (name, id_number, relationship) applying for the applicant, or None.
    agent: dict[str, str] | None = None
    policy: str  # the policy applied (a region without its own policy gets "default")
    application_date: str  # as the applicant (or the app) wrote it: data, never a clock
    as_of: str  # the submission date recency is measured against (China time)
    submitted_at: str | None = None  # when the server received the round's submission
    review_due: str  # last day of the review SLA, in working days from the submission
    # The deadline counted a day whose year has no holiday schedule yet (Mon–Fri assumed): an estimate.
    review_due_estimated: bool = False
    materials: dict[str, list[str]]  # required material -> files that satisfy it
    fingerprint: str  # OCR fingerprint of the run

    def contract(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude={"documents"})
        data["documents"] = [doc.contract() for doc in self.documents]
        return data
