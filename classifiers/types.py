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

from pydantic import BaseModel, ConfigDict

from ocr.types import Box


class DocType(StrEnum):
    ID_CARD = "id_card"  # 居民身份证 (either side), 社会保障卡, 医保电子凭证
    DIAGNOSIS_CERTIFICATE = "diagnosis_certificate"  # 疾病诊断证明书
    DISCHARGE_SUMMARY = "discharge_summary"  # 出院小结 / 出院记录
    LAB_REPORT = "lab_report"  # 检验、影像、病理报告
    MEDICAL_RECORD = "medical_record"  # 门诊病历, 病案首页
    OTHER = "other"  # invoices, prescriptions, anything else


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
    NOT_APPLICABLE = "not_applicable"


IdentityKind = Literal["resident_id_front", "resident_id_back", "social_security_card", "medical_insurance_code"]


class Classification(BaseModel):
    doc_type: DocType
    confidence: float  # 0..1
    # Only for id_card: which identity document it is; decides whether it proves the ID number.
    identity_kind: IdentityKind | None = None
    scores: dict[str, float] = {}  # every type's score, for reviewers and debugging


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


class ExtractedFields(BaseModel):
    """The fields of the report contract, plus the ID card's own fields in ``extra``.

    ``doc_date`` holds the date that matters for the document type (report date for lab reports,
    discharge date for discharge summaries, issue date for certificates, visit date for outpatient
    records) as "YYYY-MM-DD", or "YYYY-MM" when only the month is known.
    ``extra`` keys for ID cards: ethnicity, birth_date, address, issuing_authority, valid_period.
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


class SealFinding(BaseModel):
    """What the seal detector saw on the page images, before any policy is applied."""

    present: bool  # a red/pink official stamp is on the page
    color: Literal["red", "blue", "black", "none"] = "none"  # colour of the strongest stamp-like mark
    text: str | None = None  # the seal's own (curved) text as read, e.g. "XX市第一人民医院"
    page: int | None = None
    box: Box | None = None
    score: float = 0.0


class SealCheck(BaseModel):
    outcome: Outcome
    confidence: float = 1.0  # how sure the outcome is, 0..1 (see the module docstring)
    present: bool
    text: str | None = None
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


class DocumentChecks(BaseModel):
    seal: SealCheck
    hospital: HospitalCheck
    recency: RecencyCheck
    identity: IdentityCheck
    quality: QualityCheck
    diagnosis: DiagnosisCheck


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
