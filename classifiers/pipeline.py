"""From one document's OCR result (and page pixels) to its type, fields and checks.

Pure: the caller supplies everything a check needs (the registry, the disease catalogue, the seal
finding and a context built from the region policy), so the same function serves the CLI, the queue
workers and the re-scan of the backlog.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pydantic import BaseModel

from classifiers.diagnosis import DiseaseCatalogue, check_diagnosis
from classifiers.doctype import classify
from classifiers.fields import extract_fields
from classifiers.hospital import HospitalRegistry, check_hospital
from classifiers.identity import check_identity
from classifiers.quality import assess_quality
from classifiers.recency import check_recency
from classifiers.seal import check_seal, page_read_confidence
from classifiers.types import (
    Classification,
    DiagnosisCheck,
    DocType,
    DocumentChecks,
    DocumentContext,
    ExtractedFields,
    Outcome,
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
    images: list[np.ndarray],
    seal: SealFinding,
    context_for: Callable[[DocType], DocumentContext],
    *,
    registry: HospitalRegistry,
    catalogue: DiseaseCatalogue,
) -> DocumentAnalysis:
    """Classify, extract and run every check; ``context_for`` gives the policy for the found type."""
    classification = classify(ocr, images)
    doc_type = classification.doc_type
    fields = extract_fields(ocr, doc_type, classification.identity_kind)
    ctx = context_for(doc_type)

    hospital_text = fields.hospital_name.value if fields.hospital_name else None
    hospital = check_hospital(
        hospital_text,
        seal.text,
        registry,
        ctx.min_grade,
        read_confidence=fields.hospital_name.confidence if fields.hospital_name else None,
    )
    registry_match: bool | None = None
    registry_confidence: float | None = None
    if hospital.canonical_name:
        issuer_names = registry.names_for(hospital.canonical_name)
        seal_hospital = registry.resolve(seal.text) if seal.present and seal.text else None
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

    checks = DocumentChecks(
        seal=check_seal(
            seal,
            issuer_names,
            ctx.seal_required,
            registry_match=registry_match,
            registry_confidence=registry_confidence,
            read_confidence=page_read_confidence(ocr),
        ),
        hospital=hospital,
        recency=check_recency(
            fields.doc_date.value if fields.doc_date else None,
            ctx.application_date,
            ctx.recency_limit_days,
            confidence=fields.doc_date.confidence if fields.doc_date else None,
        ),
        identity=check_identity(fields, ctx, is_identity_document=doc_type == DocType.ID_CARD),
        quality=assess_quality(images, ocr),
        diagnosis=diagnosis,
    )
    return DocumentAnalysis(classification=classification, fields=fields, seal=seal, checks=checks)
