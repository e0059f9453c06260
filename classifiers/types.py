"""Result types of the ``classifiers`` package: document type, extracted fields and checks.

Their JSON form is the per-document part of the report contract in DESIGN.md; keys may be added,
never renamed.

Every check carries a ``confidence``: how sure its outcome is, given how well what it rests on was
read (a field's own ``confidence`` is the OCR score of the text it came from). The assessment sends
a FAIL to the applicant only at or above the policy's ``problem_confidence``; a weaker one becomes
a reviewer flag.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ocr.types import Box


class DocType(StrEnum):
    ID_CARD = "id_card"  # 居民身份证 (either side), 社会保障卡, 医保电子凭证
    DIAGNOSIS_CERTIFICATE = "diagnosis_certificate"  # 疾病诊断证明书
    DISCHARGE_SUMMARY = "discharge_summary"  # 出院小结 / 出院记录
    LAB_REPORT = "lab_report"  # 检验、影像、病理报告
    MEDICAL_RECORD = "medical_record"  # 门诊病历, 病案首页
    OTHER = "other"  # invoices, prescriptions, anything else; some have a kind (OtherKind)


class OtherKind(StrEnum):
    """What an ``other`` document is, where some policy rule asks for it (issue 14). A kind, not a
    document type: the report's ``doc_type`` stays within the six types of the contract (DESIGN.md),
    which apps and scorers compare against; ``kind`` is a key of its own beside it."""

    RELATIONSHIP_PROOF = "relationship_proof"  # 户口本 page (常住人口登记卡, 户口簿首页), 出生医学证明, 亲属关系证明
    TREATMENT_RECORD = "treatment_record"  # 特殊治疗记录: 治疗记录, 透析记录单, 放化疗记录
    MEDICATION_RECORD = "medication_record"  # 长期用药证明: 处方笺, 用药清单, 长期医嘱单


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
    NOT_APPLICABLE = "not_applicable"


IdentityKind = Literal["resident_id_front", "resident_id_back", "social_security_card", "medical_insurance_code"]


class Classification(BaseModel):
    doc_type: DocType
    confidence: float  # 0..1
    # What the document is within its type: for id_card its IdentityKind (decides whether it proves the
    # ID number), for other its OtherKind when it is one (a relationship proof, a treatment record, a
    # medication record), else None. One field for both, so a new kind is data, not a new type.
    kind: str | None = None
    scores: dict[str, float] = {}  # every type's probability (and "blank" on a blank page), for reviewers
    # Each OtherKind's probability: the `other` probability shared out by the kinds' evidence (how
    # nearly a document is, say, a treatment record, whatever it was typed as).
    kind_scores: dict[str, float] = {}

    @property
    def identity_kind(self) -> str | None:
        """The identity document an id_card is (the name the report and the policies use)."""
        return self.kind if self.doc_type == DocType.ID_CARD else None


class FieldValue(BaseModel):
    """One extracted value and where on which page it was read."""

    model_config = ConfigDict(frozen=True)

    value: str
    page: int
    box: Box | None = None
    raw: str | None = None  # the OCR text it was parsed from, when different from value
    # How sure the reading is (0..1): the OCR score of the text it came from, lowered when the value
    # had to be repaired or chosen among candidates. None when nothing measured it.
    confidence: float | None = None


# The ``ExtractedFields.extra`` key of a lower bound of a document's date (classifiers.dates).
DATE_NOT_BEFORE = "doc_date_not_before"


class ExtractedFields(BaseModel):
    """The fields of the report contract, plus the ID card's own fields in ``extra``.

    ``doc_date`` holds the date that matters for the document type (report date for lab reports,
    discharge date for discharge summaries, issue date for certificates, visit date for outpatient
    records) as "YYYY-MM-DD", or "YYYY-MM" when only the month is known.
    ``extra`` keys for ID cards: ethnicity, birth_date, address, issuing_authority, valid_period;
    for other documents whose ``doc_date`` was not read, ``DATE_NOT_BEFORE``: a date the document's
    own cannot precede (the sample of a lab report, the admission of a stay), which the recency
    check can still pass on.
    """

    patient_name: FieldValue | None = None
    gender: FieldValue | None = None
    id_number: FieldValue | None = None
    hospital_name: FieldValue | None = None
    department: FieldValue | None = None
    diagnosis: FieldValue | None = None
    doc_date: FieldValue | None = None
    extra: dict[str, FieldValue] = {}

    def values(self) -> dict[str, str | None]:
        """The contract's flat form: field name -> value or None."""
        names = ("patient_name", "gender", "id_number", "hospital_name", "department", "diagnosis", "doc_date")
        return {name: (fv.value if (fv := getattr(self, name)) else None) for name in names}


SealColor = Literal["red", "blue", "black", "none"]


class SealFinding(BaseModel):
    """What the seal detector saw on the page images, before any policy is applied."""

    present: bool  # a red/pink official stamp is on the page
    color: SealColor = "none"  # colour of the strongest stamp-like mark
    text: str | None = None  # the seal's own (curved) text as read, e.g. "XX市第一人民医院"
    # How well the organisation's name on the seal's arc was read (the recogniser's score, 0..1); 0
    # when no name was read there (``text`` is then the middle lines alone, 检验专用章 …); None when
    # nothing measured it (a finding made by hand or before it was kept).
    name_score: float | None = None
    page: int | None = None
    box: Box | None = None
    score: float = 0.0

    @property
    def name_text(self) -> str | None:
        """The text that may name the seal's organisation: none when no name was read on its arc."""
        return None if self.name_score == 0 else self.text


class SealCheck(BaseModel):
    outcome: Outcome
    confidence: float = 1.0  # how sure the outcome is, 0..1 (see the module docstring)
    present: bool
    text: str | None = None
    name_score: float | None = None  # how well the seal's name was read (``SealFinding.name_score``)
    matches_issuer: bool | None = None  # None when there is no seal text or no issuer to compare
    reason: str | None = None


class HospitalCheck(BaseModel):
    outcome: Outcome
    confidence: float = 1.0  # how sure the outcome is, 0..1 (see the module docstring)
    canonical_name: str | None = None
    grade: str | None = None  # as written in the registry: 三级甲等, 二级乙等, 一级, 未定级 …
    matched_from: str | None = None  # the text it was resolved from
    reason: str | None = None


class RecencyCheck(BaseModel):
    outcome: Outcome
    confidence: float = 1.0  # how sure the outcome is, 0..1 (see the module docstring)
    date: str | None = None
    age_days: int | None = None
    limit_days: int | None = None
    reason: str | None = None


class IdentityCheck(BaseModel):
    outcome: Outcome
    confidence: float = 1.0  # how sure the outcome is, 0..1 (see the module docstring)
    id_valid: bool | None = None  # GB 11643 checksum and birth date of the ID number on the document
    name_matches: bool | None = None
    id_matches: bool | None = None
    reason: str | None = None
    # Whose identity document it is, when the application names an agent (代办人): "agent" for the
    # agent's own ID card, checked against the agent; None otherwise (checked against the applicant).
    holder: Literal["applicant", "agent"] | None = None


class QualityCheck(BaseModel):
    outcome: Outcome
    confidence: float = 1.0  # how sure the outcome is, 0..1 (see the module docstring)
    problems: list[str] = []  # blur, too_small, too_dark, glare, cropped, no_text
    metrics: dict[str, float] = {}
    reason: str | None = None  # what to tell the applicant, in Chinese


class DiagnosisCheck(BaseModel):
    outcome: Outcome
    confidence: float = 1.0  # how sure the outcome is, 0..1 (see the module docstring)
    disease: str | None = None  # the claimed 病种
    matched_term: str | None = None
    icd10: str | None = None
    reason: str | None = None


SignatureKind = Literal["handwritten", "stamp", "printed_name", "none"]


class SignatureCheck(BaseModel):
    """A doctor's signature (医生签字 or 签章) in the signature area, where the policy requires one
    (classifiers/signature.py); NOT_APPLICABLE and nothing looked at elsewhere."""

    outcome: Outcome
    confidence: float = 1.0  # how sure the outcome is, 0..1 (see the module docstring)
    present: bool | None = None  # a handwritten or stamped signature was seen; None: not looked for
    kind: SignatureKind | None = None  # what the signature area holds
    label: str | None = None  # the label of the area judged, as read (医师签名, 主治医师 …)
    page: int | None = None
    box: list[float] | None = None  # x0, y0, x1, y1 of label and area, in normalised page pixels
    reason: str | None = None


class DocumentChecks(BaseModel):
    seal: SealCheck
    hospital: HospitalCheck
    recency: RecencyCheck
    identity: IdentityCheck
    quality: QualityCheck
    diagnosis: DiagnosisCheck
    # Not in older stored reports, and only judged where the policy requires a signature.
    signature: SignatureCheck = Field(default_factory=lambda: SignatureCheck(outcome=Outcome.NOT_APPLICABLE))


class DocumentContext(BaseModel):
    """What a document is checked against: the application and the region policy for its type.

    Frozen, so checks never read settings (the paperless ParserContext habit)."""

    model_config = ConfigDict(frozen=True)

    application_date: dt.date
    applicant_name: str | None = None
    id_number: str | None = None
    disease: str | None = None  # claimed 病种, a name from the disease catalogue
    seal_required: bool = False
    min_grade: str | None = None  # e.g. "二级"; None when the policy sets no minimum for this type
    recency_limit_days: int | None = None
    signature_required: bool = False  # a doctor's signature (医生签字) in the signature area
    printed_signature_ok: bool = False  # a printed doctor's name there counts as a signature
    # 代办: the agent named on the application, whose own ID card is checked against them.
    agent_name: str | None = None
    agent_id_number: str | None = None
