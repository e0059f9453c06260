"""From one document's OCR result (and page pixels) to its type, fields and checks.

Pure: the caller supplies everything a check needs (the registry, the disease catalogue, the seal
finding and a context built from the region policy), so the same function serves the CLI, the queue
workers and the re-scan of the backlog.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypedDict

import numpy as np
from pydantic import BaseModel

from classifiers.diagnosis import DiseaseCatalogue, check_diagnosis
from classifiers.doctype import classify
from classifiers.fields import build_rows, extract_fields
from classifiers.hospital import HospitalRegistry, check_hospital
from classifiers.identity import TextFit, check_identity, name_as_printed, name_on_page
from classifiers.quality import PagePixels, assess_quality
from classifiers.recency import check_recency
from classifiers.seal import check_seal, page_read_confidence
from classifiers.signature import check_signature
from classifiers.types import (
    DATE_NOT_BEFORE,
    Classification,
    DiagnosisCheck,
    DocType,
    DocumentChecks,
    DocumentContext,
    ExtractedFields,
    FieldValue,
    HospitalCheck,
    IdentityCheck,
    OtherKind,
    Outcome,
    RecencyCheck,
    SealCheck,
    SealFinding,
)
from ocr.types import OcrResult

# Types whose diagnosis must fit the claimed 病种 (a lab report's 诊断意见 is a finding, not a claim).
DIAGNOSIS_BEARING = frozenset({DocType.DIAGNOSIS_CERTIFICATE, DocType.DISCHARGE_SUMMARY, DocType.MEDICAL_RECORD})


class DocumentAnalysis(BaseModel):
    classification: Classification
    fields: ExtractedFields
    seal: SealFinding
    checks: DocumentChecks


def analyse_document(
    ocr: OcrResult,
    images: Sequence[np.ndarray],
    seal: SealFinding,
    context_for: Callable[[DocType], DocumentContext],
    *,
    registry: HospitalRegistry,
    catalogue: DiseaseCatalogue,
    text_fit: TextFit | None = None,
) -> DocumentAnalysis:
    """Classify, extract and run every check; ``context_for`` gives the policy for the found type.
    ``text_fit`` (the recogniser's fit of a text to a line's pixels) lets a name misread by a glyph
    or two be read as the applicant's where the pixels fit it nearly as well (``name_as_printed``),
    and a document date's misread year as the one printed (``years_as_printed``).

    ``images`` may be a ``PagePixels`` with the pixel findings of an earlier analysis (from the OCR
    cache): the pages are then not drawn; what is measured here is added to it for the caller to
    keep. A plain list is wrapped once, so the checks share one measure of each page."""
    images = PagePixels.of(images)
    classification = classify(ocr, images)
    doc_type = classification.doc_type
    ctx = context_for(doc_type)
    fields = extract_fields(ocr, doc_type, classification.identity_kind, as_of=ctx.application_date,
                            text_fit=text_fit)
    names = [n for n in (ctx.applicant_name, ctx.agent_name) if n]
    if fields.patient_name is None and classification.identity_kind != "resident_id_back":
        fields.patient_name = name_on_page(build_rows(ocr), names)
    elif text_fit is not None and fields.patient_name is not None:
        fields.patient_name = name_as_printed(fields.patient_name, ocr, names, text_fit)
    checks = DocumentChecks(
        **rule_checks(doc_type, fields, seal, ctx, registry=registry, catalogue=catalogue,
                      read_confidence=page_read_confidence(ocr)),
        identity=identity_check(doc_type, fields, ctx, kind=classification.kind),
        quality=assess_quality(images, ocr),
        # Pixels of the signature area beside a label OCR already read: no second OCR pass.
        signature=check_signature(ocr, images, seal, required=ctx.signature_required,
                                  printed_name_ok=ctx.printed_signature_ok),
    )
    return DocumentAnalysis(classification=classification, fields=fields, seal=seal, checks=checks)


def agent_may_hold(doc_type: DocType | None, kind: str | None) -> bool:
    """Whether a document may be the agent's (代办人's) own rather than the applicant's: an ID card,
    or an `other` document of kind relationship_proof (a 户口本 page may well be the agent's)."""
    return doc_type == DocType.ID_CARD or (doc_type == DocType.OTHER and kind == OtherKind.RELATIONSHIP_PROOF)


def identity_check(doc_type: DocType, fields: ExtractedFields, ctx: DocumentContext, *,
                   kind: str | None = None) -> IdentityCheck:
    """The identity check against the applicant or, on an application that names an agent (代办), the
    agent: an ID card (or 户口本 page, ``kind`` relationship_proof) that is the agent's is checked
    against the agent (``holder`` "agent"), so it neither proves the applicant's identity nor fails it
    as another person's. It is the agent's when it matches the agent and not the applicant, or is
    merely unsure for the agent while it clearly is not the applicant."""
    is_identity = doc_type == DocType.ID_CARD
    own = check_identity(fields, ctx, is_identity_document=is_identity)
    if not agent_may_hold(doc_type, kind) or not (ctx.agent_name or ctx.agent_id_number):
        return own
    as_agent = ctx.model_copy(update={"applicant_name": ctx.agent_name, "id_number": ctx.agent_id_number})
    agent = check_identity(fields, as_agent, is_identity_document=is_identity)
    if (agent.outcome == Outcome.PASS and own.outcome != Outcome.PASS) or (
        agent.outcome == Outcome.UNKNOWN and own.outcome == Outcome.FAIL
    ):
        return agent.model_copy(update={"holder": "agent"})
    return own.model_copy(update={"holder": "applicant"})


def _read_off_seal(field: FieldValue | None, seal: SealFinding) -> bool:
    """Whether a field was read where the seal is stamped (its ink, read by the page's OCR)."""
    return (field is not None and field.box is not None and seal.present and seal.box is not None
            and seal.page == field.page and seal.box.overlap(field.box) > 0)


class RuleChecks(TypedDict):
    """What ``rule_checks`` returns: its checks, keyed by their ``DocumentChecks`` field."""

    seal: SealCheck
    hospital: HospitalCheck
    recency: RecencyCheck
    diagnosis: DiagnosisCheck


def rule_checks(
    doc_type: DocType,
    fields: ExtractedFields,
    seal: SealFinding,
    ctx: DocumentContext,
    *,
    registry: HospitalRegistry,
    catalogue: DiseaseCatalogue,
    read_confidence: float | None,
) -> RuleChecks:
    """The checks that depend on the region policy, the hospital registry or the disease catalogue
    (seal, hospital, recency, diagnosis), from fields and a seal finding already read: the re-scan
    of the backlog runs these alone when only those changed (``intake.rescan``), the full analysis
    runs them after reading. ``read_confidence`` is ``page_read_confidence`` of the OCR result."""
    name = fields.hospital_name
    hospital_text = name.value if name else None
    hospital = check_hospital(
        hospital_text,
        seal.name_text,
        registry,
        ctx.min_grade,
        read_confidence=name.confidence if name else None,
        name_off_seal=not _read_off_seal(name, seal),
    )
    registry_match: bool | None = None
    registry_confidence: float | None = None
    if hospital.canonical_name:
        issuer_names = registry.names_for(hospital.canonical_name)
        seal_hospital = registry.resolve(seal.name_text) if seal.present and seal.name_text else None
        if seal_hospital is not None:
            registry_match = seal_hospital.canonical_name == hospital.canonical_name
            registry_confidence = seal_hospital.score / 100
    else:
        issuer_names = [hospital_text] if hospital_text else []

    if doc_type in DIAGNOSIS_BEARING:
        diagnosis = check_diagnosis(
            fields.diagnosis.value if fields.diagnosis else None,
            ctx.disease,
            catalogue,
            read_confidence=fields.diagnosis.confidence if fields.diagnosis else None,
        )
    else:
        diagnosis = DiagnosisCheck(outcome=Outcome.NOT_APPLICABLE, disease=ctx.disease)
    return {
        "seal": check_seal(
            seal,
            issuer_names,
            ctx.seal_required,
            registry_match=registry_match,
            registry_confidence=registry_confidence,
            read_confidence=read_confidence,
        ),
        "hospital": hospital,
        "recency": check_recency(
            fields.doc_date.value if fields.doc_date else None,
            ctx.application_date,
            ctx.recency_limit_days,
            confidence=fields.doc_date.confidence if fields.doc_date else None,
            not_before=bound.value if (bound := fields.extra.get(DATE_NOT_BEFORE)) else None,
            not_before_confidence=bound.confidence if bound else None,
        ),
        "diagnosis": diagnosis,
    }
