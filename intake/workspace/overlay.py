"""Reviewers' corrections laid over what the pre-screen read, in every assessment.

An edit (``FieldEdit``) names a document, a field of the report contract (``patient_name``,
``id_number``, ``hospital_name``, ``doc_date`` …), ``doc_type`` (re-typing to one of the contract's
six types) or ``kind`` (what an `other` document is: relationship_proof, treatment_record,
medication_record, or none), the new value, who, when and why. Edits are stored apart from the
extraction (``Document.report`` stays as the worker wrote it) and the newest per (document, field)
wins over it in every later assessment: ``with_reviewer_edits`` is called by
``intake.service.assess_reports``, the one function every assessment goes through (a submission's, a
re-assessment's, a re-scan's). An edited field reads with confidence 1.0 (a person checked it) and
keeps where on the page the original was read.

The checks that rest on fields are run again for an edited document, from its stored report and
without OCR: hospital and grade, seal against the issuer, recency (by the assessment), diagnosis,
identity. The page-quality check and a missing seal stay as the page's reading judged them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from classifiers.types import DocType, ExtractedFields, FieldValue, OtherKind, SealColor, SealFinding
from intake.application import Application as ApplicationData
from intake.models import Application, FieldEdit
from intake.policy import Policy, PolicyBook, load_policies
from intake.report import DocumentReport, FieldSource
from intake.settings import get_settings
from ocr.types import Box

if TYPE_CHECKING:
    from classifiers.diagnosis import DiseaseCatalogue
    from classifiers.hospital import HospitalRegistry

DOC_TYPE = "doc_type"  # the FieldEdit.field of a re-typing
KIND = "kind"  # the FieldEdit.field of an `other` document's kind (recorded with a re-typing to other)
# The checks (classifiers.pipeline) are imported when an edited document is checked again, not with
# this module: the API process imports it through intake.service and stays free of the OCR stack
# (tests/api/test_api_imports.py) until a reviewer's edit needs them.


# --- reference data the checks need (loaded once per file version) -------------------------------------


@dataclass(frozen=True)
class References:
    registry: HospitalRegistry
    catalogue: DiseaseCatalogue


@lru_cache(maxsize=4)
def _references(registry_path: Path, _mtime: float) -> References:
    from classifiers.diagnosis import DiseaseCatalogue
    from classifiers.hospital import HospitalRegistry

    return References(HospitalRegistry.from_csv(registry_path), DiseaseCatalogue.load())


def references() -> References:
    """The process's hospital registry and disease catalogue (re-read when the registry file changes)."""
    path = get_settings().registry_path
    return _references(path, path.stat().st_mtime)


@lru_cache(maxsize=4)
def _policies(directory: Path, _mtime: float) -> PolicyBook:
    return load_policies(directory)


def policies() -> PolicyBook:
    """The process's region policies (re-read when the directory changes)."""
    directory = get_settings().policies_dir
    return _policies(directory, directory.stat().st_mtime)


# --- applying edits ----------------------------------------------------------------------------------


def latest_edits(session: Session, document_ids: Sequence[str]) -> dict[str, dict[str, FieldEdit]]:
    """document id -> field -> its newest edit."""
    found: dict[str, dict[str, FieldEdit]] = {}
    if not document_ids:
        return found
    for edit in session.scalars(
        select(FieldEdit).where(FieldEdit.document_id.in_(list(document_ids))).order_by(FieldEdit.id)
    ):
        found.setdefault(edit.document_id, {})[edit.field] = edit
    return found


def with_reviewer_edits(app: Application, policy: Policy, reports: list[DocumentReport],
                        data: ApplicationData, *, refs: References | None = None,
                        edits: dict[str, dict[str, FieldEdit]] | None = None) -> list[DocumentReport]:
    """The reports with every reviewer edit of their documents applied (the same list when none).
    ``refs``: the registry and catalogue the assessment uses (a re-scan's, a worker's); default, the
    process's (``references``). ``edits``: ``latest_edits`` of (at least) these documents, when the
    caller read them for many applications at once (a re-scan); default, read here."""
    if edits is None:
        session = object_session(app)
        ids = [r.document_id for r in reports if r.document_id]
        edits = latest_edits(session, ids) if session is not None else {}
    if not any(edits.get(r.document_id or "") for r in reports):
        return reports
    return [apply_edits(r, edits.get(r.document_id or "", {}), policy=policy, application=data, refs=refs)
            for r in reports]


def apply_edits(report: DocumentReport, edits: dict[str, FieldEdit], *, policy: Policy,
                application: ApplicationData, refs: References | None = None) -> DocumentReport:
    """A copy of ``report`` with ``edits`` over its extraction and its field checks run again
    (against ``refs``, the process's registry and catalogue by default)."""
    if not edits:
        return report
    report = report.model_copy(deep=True)
    read_as = report.doc_type
    retype = edits.get(DOC_TYPE)
    if retype is not None and retype.value is not None:  # first: a kind edit applies to the new type
        report.doc_type = DocType(retype.value)
        report.confidence, report.type_scores = 1.0, {retype.value: 1.0}
        if report.doc_type != read_as:  # what it was read as within its old type no longer holds
            report.kind, report.kind_scores = None, {}
    for field, edit in edits.items():
        if field == DOC_TYPE:
            continue
        if field == KIND:
            if report.doc_type == DocType.OTHER:  # a kind is only ever an `other` document's
                report.kind = OtherKind(edit.value).value if edit.value else None
                report.kind_scores = {report.kind: 1.0} if report.kind else {}
        else:
            report.fields[field] = edit.value
            source = report.field_sources.get(field)
            report.field_sources[field] = FieldSource(page=source.page if source else 0,
                                                      box=source.box if source else None, confidence=1.0)
    if report.error is None and report.doc_type is not None:
        _check_again(report, read_as, policy, application, refs or references())
    return report


def _check_again(report: DocumentReport, read_as: DocType | None, policy: Policy,
                 application: ApplicationData, refs: References) -> None:
    from classifiers.pipeline import identity_check, rule_checks
    from intake.prescreen import context_factory

    assert report.doc_type is not None
    ctx = context_factory(policy, application)(report.doc_type)
    fields, finding = fields_of(report), _seal_of(report)
    checks = rule_checks(report.doc_type, fields, finding, ctx, registry=refs.registry, catalogue=refs.catalogue,
                         read_confidence=None)
    if not finding.present and report.doc_type == read_as:
        # How sure "no seal" is rests on how well the page was read (the OCR result): keep it.
        checks["seal"] = report.checks.seal
    report.checks = report.checks.model_copy(
        update={**checks, "identity": identity_check(report.doc_type, fields, ctx, kind=report.kind)}
    )


def fields_of(report: DocumentReport) -> ExtractedFields:
    """A stored report's fields as the classifiers made them (where each was read, how sure)."""
    known = ExtractedFields.model_fields

    def field(name: str, value: str) -> FieldValue:
        source = report.field_sources.get(name)
        return FieldValue(value=value, page=source.page if source else 0,
                          box=Box(x0=source.box[0], y0=source.box[1], x1=source.box[2], y1=source.box[3])
                          if source and source.box else None,
                          confidence=source.confidence if source else None)

    values = {name: field(name, value) for name, value in report.fields.items()
              if value is not None and name in known and name != "extra"}
    extra = {key: field(key, value) for key, value in report.extra_fields.items()}
    return ExtractedFields(**values, extra=extra)  # type: ignore[arg-type]


def _is_seal_color(color: str | None) -> TypeGuard[SealColor]:
    return color in get_args(SealColor)


def _seal_of(report: DocumentReport) -> SealFinding:
    seal, source = report.checks.seal, report.field_sources.get("seal")
    color: SealColor = report.seal_color if _is_seal_color(report.seal_color) else (
        "red" if seal.present else "none")
    box = source.box if source else None
    return SealFinding(present=seal.present, color=color, text=seal.text, name_score=seal.name_score,
                       page=source.page if source else None,
                       box=Box(x0=box[0], y0=box[1], x1=box[2], y1=box[3]) if box else None,
                       score=(source.confidence or 0.0) if source else 0.0)
