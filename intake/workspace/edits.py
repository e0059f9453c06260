"""A reviewer's corrections of what the pre-screen read, and the re-assessment that follows them.

A correction (``FieldEdit``) names a document of the current round, a field of the report contract
(``patient_name``, ``id_number``, ``hospital_name``, ``doc_date`` …) or ``doc_type`` (re-typing to
one of the report contract's six types; to `other` with its ``kind``), the new value, who, when and
why. It is stored apart from the extraction and wins over it in every later assessment
(``intake.workspace.overlay``). Right after it the round is assessed again from the stored document
reports (no OCR) as a new revision of the case (``reassess``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.orm import Session

from classifiers.diagnosis import DISEASES_PATH
from classifiers.types import DocType, OtherKind
from intake.audit import audit
from intake.errors import InvalidInput, NotFound
from intake.models import Application, Case, Document, FieldEdit, User
from intake.report import FIELD_NAMES, DocumentReport
from intake.service import assess_reports, documents_in_effect, round_reports
from intake.settings import get_settings
from intake.users import actor_of
from intake.versions import reference_versions
from intake.workspace.access import require_open
from intake.workspace.claims import ensure_working
from intake.workspace.overlay import DOC_TYPE, KIND, policies

EDITABLE_FIELDS = FIELD_NAMES
MAX_VALUE_LENGTH = 200


def correct_field(session: Session, app: Application, user: User, document_id: str, field: str,
                  value: str | None, *, reason: str = "", kind: str | None = None) -> Case:
    """Store a reviewer's correction (``field`` = "doc_type": a re-typing, with the ``kind`` of an
    `other` document: relationship_proof, treatment_record, medication_record or None) and re-assess
    the round at once; the new current case."""
    case = require_open(session, app)
    ensure_working(session, app, user)
    doc = session.get(Document, document_id)
    if doc is None or doc not in documents_in_effect(app, app.round):
        raise NotFound(f"本轮材料中没有 {document_id}")
    shown = next((d for d in case.report.get("documents", []) if d.get("document_id") == doc.id), None)
    current = DocumentReport.model_validate(shown) if shown else None
    if kind is not None and not (field == DOC_TYPE and value == DocType.OTHER):
        raise InvalidInput("只有“其他材料”可以指定具体种类")
    record_edit(session, app=app, document=doc, field=field, value=value, reason=reason, user=user, current=current)
    if field == DOC_TYPE and value == DocType.OTHER:
        # Always with a re-typing to other (None too), so an earlier kind never outlives it.
        record_edit(session, app=app, document=doc, field=KIND, value=kind, reason=reason, user=user, current=current)
    return reassess(session, app, case, actor=actor_of(user), why="retyped" if field == DOC_TYPE else "field edited")


def correct_fields(session: Session, app: Application, user: User, document_id: str,
                   values: Mapping[str, str | None], *, reason: str = "") -> Case | None:
    """Several corrections of one document at once (the case page's form sends every field): a value
    equal to what the case shows is no edit; the changed ones are stored and the round re-assessed
    once. None when nothing changed."""
    case = require_open(session, app)
    shown = next((d for d in case.report.get("documents", []) if d.get("document_id") == document_id), None)
    before = (shown or {}).get("fields") or {}
    changed = {f: v for f, v in values.items() if _clean(v) != _clean(before.get(f))}
    if not changed:
        return None
    ensure_working(session, app, user)
    doc = session.get(Document, document_id)
    if doc is None or doc not in documents_in_effect(app, app.round):
        raise NotFound(f"本轮材料中没有 {document_id}")
    current = DocumentReport.model_validate(shown) if shown else None
    for field, value in changed.items():
        if field in (DOC_TYPE, KIND):
            raise InvalidInput("材料类型请用重新归类修改")
        record_edit(session, app=app, document=doc, field=field, value=value, reason=reason, user=user,
                    current=current)
    return reassess(session, app, case, actor=actor_of(user), why="field edited")

# --- recording edits ---------------------------------------------------------------------------------


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    if len(value) > MAX_VALUE_LENGTH:
        raise InvalidInput(f"字段内容不能超过{MAX_VALUE_LENGTH}个字符")
    return value or None


def _check_value(field: str, value: str | None) -> None:
    if field == "doc_date" and value is not None:
        try:
            dt.date.fromisoformat(value) if len(value) == 10 else dt.date.fromisoformat(value + "-01")
        except ValueError:
            raise InvalidInput("日期请写作 YYYY-MM-DD（只知年月时写 YYYY-MM）") from None


def record_edit(session: Session, *, app: Application, document: Document, field: str, value: str | None,
                reason: str, user: User, current: DocumentReport | None) -> FieldEdit:
    """Store a correction of one field (``doc_type``: a re-typing). ``current``: the document as the
    current case shows it (with earlier edits), whose value is kept as ``previous``."""
    if field == DOC_TYPE:
        if value not in {t.value for t in DocType}:
            raise InvalidInput(f"材料类型须为以下之一：{', '.join(t.value for t in DocType)}")
        previous = current.doc_type.value if current is not None and current.doc_type else None
    elif field == KIND:
        value = value or None
        if value is not None and value not in {k.value for k in OtherKind}:
            raise InvalidInput(f"其他材料的种类须为以下之一：{', '.join(k.value for k in OtherKind)}")
        previous = current.kind if current is not None and current.doc_type == DocType.OTHER else None
    elif field in EDITABLE_FIELDS:
        value = _clean(value)
        if field == "id_number" and value:
            value = value.upper()
        _check_value(field, value)
        previous = current.fields.get(field) if current is not None else None
    else:
        raise InvalidInput(f"不能修改字段 {field}；可修改：{', '.join((*EDITABLE_FIELDS, DOC_TYPE))}")
    edit = FieldEdit(application_id=app.id, document_id=document.id, field=field, value=value, previous=previous,
                     reason=(reason or "").strip()[:500], user_id=user.id)
    session.add(edit)
    session.flush()
    # The values may be personal (a name, an ID number): the audit row names the field, not the values.
    retyped = field in (DOC_TYPE, KIND)
    audit(session, actor=actor_of(user), action="document.retyped" if retyped else "document.field_edited",
          application_id=app.id, document_id=document.id, field=field, edit_id=edit.id,
          **({field: value, "previous": previous} if retyped else {}))
    return edit


# --- re-assessment -----------------------------------------------------------------------------------


def reassess(session: Session, app: Application, case: Case, *, actor: str, why: str) -> Case:
    """Assess the current round again from its documents' stored reports with every edit applied
    (no OCR), as a new revision of ``case``; the application's status and callbacks are untouched."""
    policy = policies().for_region(app.region)
    report = assess_reports(app, policy, round_reports(app), fingerprint=str(case.report.get("fingerprint", "")))
    # The documents' reports are as before (classifier and OCR parts kept); the policy, registry and
    # catalogue are the process's (``overlay.policies``, ``overlay.references``), and recorded so.
    settings = get_settings()
    versions = {**(case.versions or {}),
                **reference_versions(policy, registry=settings.registry_path, catalogue=DISEASES_PATH)}
    contract = report.contract()
    contract["prescreen_verdict"] = case.report.get("prescreen_verdict") or case.verdict
    new = Case(application_id=app.id, round=case.round, revision=case.revision + 1, verdict=report.verdict,
               problems=report.problems, notice=report.notice, report=contract, submitted_at=case.submitted_at,
               review_due=case.review_due, versions=versions)
    session.add(new)
    session.flush()
    case.superseded_by = new.id
    audit(session, actor=actor, action="case.reassessed", application_id=app.id, round=case.round,
          revision=new.revision, why=why, verdict_before=case.verdict, verdict=new.verdict,
          problems_before=case.problems, problems=new.problems)
    return new
