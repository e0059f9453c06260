"""Assessment of one submission round: required materials, problem codes, verdict, the review
deadline and the 一次性告知 notice that tells the applicant every defect at once.

``assess_round`` is the one assessment of the project: the workers call it for uploads, the command
line for folders (through the same service functions) and the re-scan for the backlog. Everything
date-dependent is measured from the round's submission date, never from a date the app sent.

补正 (supplements): a problem on a document is cleared only by withdrawing or replacing that
document, or, for a problem of a material (stale, unsealed, another hospital's seal …), by a
document of a later round that satisfies the same material and has no problem itself. An `other`
document satisfies no material, so it clears nothing, unless a material names its kind (a
relationship proof for 代办, a treatment or medication record for a disease's extras); an
unreadable one names no material, so only its withdrawal or replacement clears it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from classifiers.identity import compare_names
from classifiers.recency import check_recency
from classifiers.types import DATE_NOT_BEFORE, DocType, OtherKind, Outcome
from intake.application import Application
from intake.names import display_name
from intake.policy import MaterialRule, Policy
from intake.report import DocumentReport, Evidence, Report, Verdict

DOC_TYPE_LABELS = {
    DocType.ID_CARD: "身份证明",
    DocType.DIAGNOSIS_CERTIFICATE: "疾病诊断证明书",
    DocType.DISCHARGE_SUMMARY: "出院小结",
    DocType.LAB_REPORT: "检查检验报告",
    DocType.MEDICAL_RECORD: "门诊病历",
    DocType.OTHER: "其他材料",
}
# What an `other` document of a kind is called in the notice (issue 14).
KIND_LABELS = {
    OtherKind.RELATIONSHIP_PROOF: "关系证明",
    OtherKind.TREATMENT_RECORD: "治疗记录",
    OtherKind.MEDICATION_RECORD: "用药证明",
}


def document_label(doc: DocumentReport) -> str:
    """What the applicant is told a document is: its kind's name for an `other` document of a kind,
    else its type's."""
    if doc.doc_type == DocType.OTHER and doc.kind in KIND_LABELS:
        return KIND_LABELS[OtherKind(doc.kind)]
    return DOC_TYPE_LABELS.get(doc.doc_type, "材料") if doc.doc_type else "材料"


def is_relationship_proof(doc: DocumentReport) -> bool:
    return doc.doc_type == DocType.OTHER and doc.kind == OtherKind.RELATIONSHIP_PROOF


def is_readable(doc: DocumentReport) -> bool:
    return doc.error is None and doc.checks.quality.outcome != Outcome.FAIL


# A possible problem read off an UNKNOWN outcome (something was read but could not be placed) is
# never surer than this: it is for a reviewer to look at, not for the applicant to fix.
UNCERTAIN = 0.5


def document_findings(doc: DocumentReport, policy: Policy, application: Application, *,
                      other_names: Sequence[str] = (), relation_texts: Sequence[str] = ()) -> list[Evidence]:
    """Every possible problem of one document, each with its evidence and confidence; the policy's
    ``problem_confidence`` later decides which the applicant is told of and which are flags.
    ``other_names`` are the names read on the application's other documents; ``relation_texts`` the
    text of its other relationship proofs (代办: two 户口本 pages together show both names)."""
    name = doc.file
    if not is_readable(doc):
        quality = doc.checks.quality
        read = doc.error or quality.reason or "、".join(quality.problems) or "无法识别"
        return [Evidence(code=f"unreadable:{name}", file=name, page=0, read=read, expected="清晰、完整、可辨认的材料",
                         rule="材料须清晰可辨（图像质量检查）", confidence=1.0 if doc.error else quality.confidence,
                         reason=read)]
    if doc.doc_type is None:
        return []
    if is_relationship_proof(doc):
        # Without an agent it is needed for nothing; with one, it is checked for the two names, not
        # as the applicant's own document (a 户口本 page may well be the agent's).
        return relation_findings(doc, application, other_texts=relation_texts) if application.agent else []
    if doc.doc_type == DocType.OTHER and (
        doc.kind is None or doc.kind not in policy.kinds_named(application.disease, proxy=application.agent is not None)
    ):
        return []  # `other` documents satisfy nothing and fail nothing, unless a material names their kind
    checks, label = doc.checks, document_label(doc)
    found: list[Evidence] = []

    def add(kind: str, field: str | None, *, read: str | None, expected: str | None, rule: str,
            confidence: float, reason: str | None) -> None:
        source = doc.field_sources.get(field) if field else None
        found.append(Evidence(code=f"{kind}:{name}", file=name, page=source.page if source else None,
                              box=source.box if source else None, read=read, expected=expected, rule=rule,
                              confidence=round(confidence, 3), reason=reason))

    identity = checks.identity
    id_read, name_read = doc.fields.get("id_number"), doc.fields.get("patient_name")
    if identity.id_valid is False and doc.doc_type == DocType.ID_CARD:
        add("id_invalid", "id_number", read=id_read, expected="校验位与出生日期均有效的18位公民身份号码",
            rule="GB 11643 公民身份号码校验", confidence=identity.confidence, reason=identity.reason)
    mismatch = identity.name_matches is False or identity.id_matches is False
    if mismatch or (identity.outcome == Outcome.UNKNOWN and (name_read or id_read)):
        field = "patient_name" if identity.name_matches is False or (not mismatch and name_read) else "id_number"
        confidence, reason = (identity.confidence, identity.reason) if mismatch else (
            min(identity.confidence, UNCERTAIN), identity.reason)
        if identity.name_matches is False and name_read and other_names:
            # Another name read the same way on a second document is no one-off misreading.
            source = doc.field_sources.get("patient_name")
            again = compare_names(name_read, application.applicant_name, other_names=other_names,
                                  read_confidence=source.confidence if source else None)
            if again.same is False and again.confidence > confidence:
                confidence, reason = again.confidence, again.reason
        if identity.holder == "agent" and application.agent:  # the agent's own card, checked against them
            expected, rule = f"{application.agent.name} {application.agent.id_number}", "代办人身份证件须为代办人本人的"
        else:
            expected, rule = f"{application.applicant_name} {application.id_number}", "材料须为申请人本人的材料"
        add("identity_mismatch", field, read=f"{name_read or '—'} {id_read or '—'}", expected=expected, rule=rule,
            confidence=confidence, reason=reason)

    seal = checks.seal
    seal_rule = f"{label}须加盖出具医院公章（本地区政策）"
    if seal.outcome == Outcome.FAIL:
        kind = "seal_mismatch" if seal.matches_issuer is False else "seal_missing"
        add(kind, "seal" if seal.present else None, read=seal.text or ("有印章" if seal.present else "未见红色公章"),
            expected=checks.hospital.canonical_name or doc.fields.get("hospital_name") or "出具医院的红色公章",
            rule=seal_rule, confidence=seal.confidence, reason=seal.reason)
    elif seal.outcome == Outcome.UNKNOWN and doc.doc_type in policy.seal_required and seal.reason:
        add("seal_mismatch" if seal.present else "seal_missing", "seal" if seal.present else None,
            read=seal.text, expected=checks.hospital.canonical_name or "出具医院的红色公章", rule=seal_rule,
            confidence=min(seal.confidence, UNCERTAIN), reason=seal.reason)

    signature = checks.signature
    # A clearly empty signature area is the applicant's to fix; a printed name or a blurred area is a
    # reviewer's question (UNCERTAIN at most). A page where no signature area was found at all says
    # nothing either way (many records sign without a printed label): its check shows "unknown" on
    # the case page, but it is no flag, or every such record would be one.
    if doc.doc_type in policy.signature_required and (
        signature.outcome == Outcome.FAIL or (signature.outcome == Outcome.UNKNOWN and signature.box is not None)
    ):
        sure = signature.confidence if signature.outcome == Outcome.FAIL else min(signature.confidence, UNCERTAIN)
        read = {"printed_name": "仅见打印的医师姓名", "none": "签名处空白"}.get(signature.kind or "", "未找到签名栏")
        found.append(Evidence(code=f"signature_missing:{name}", file=name, page=signature.page, box=signature.box,
                              read=read, expected="医生手写签字或医师签章",
                              rule=f"{label}需医生签字（本地区政策）", confidence=round(sure, 3),
                              reason=signature.reason))

    # The hospital check is not_applicable unless the policy sets a minimum grade for this type.
    hospital = checks.hospital
    min_grade = policy.min_grade.get(doc.doc_type)
    grade_rule = f"{label}须由{min_grade}及以上定点医院出具"
    if hospital.outcome == Outcome.FAIL:
        add("grade_too_low", "hospital_name", read=f"{hospital.canonical_name or '—'}（{hospital.grade or '未定级'}）",
            expected=f"{min_grade}及以上", rule=grade_rule, confidence=hospital.confidence, reason=hospital.reason)
    elif hospital.outcome == Outcome.UNKNOWN:
        add("hospital_unknown", "hospital_name", read=doc.fields.get("hospital_name"),
            expected="定点医疗机构名录中的医院", rule=grade_rule, confidence=hospital.confidence,
            reason=hospital.reason)

    recency = checks.recency
    if recency.limit_days is not None:
        recency_rule = f"{label}须为提交前{recency.limit_days}天内出具"
        if recency.outcome == Outcome.FAIL:
            add("stale", "doc_date", read=recency.date, expected=f"不早于提交前{recency.limit_days}天",
                rule=recency_rule, confidence=recency.confidence, reason=recency.reason)
        elif recency.outcome == Outcome.UNKNOWN:
            add("stale", "doc_date", read=recency.date, expected=f"不早于提交前{recency.limit_days}天",
                rule=recency_rule, confidence=min(recency.confidence, UNCERTAIN), reason=recency.reason)

    diagnosis = checks.diagnosis
    diagnosis_read = doc.fields.get("diagnosis")
    claim = f"{application.disease}" + (f"（{diagnosis.icd10}）" if diagnosis.icd10 else "")
    if diagnosis.outcome == Outcome.FAIL:
        add("diagnosis_mismatch", "diagnosis", read=diagnosis_read, expected=claim, rule="诊断须与申请病种相符",
            confidence=diagnosis.confidence, reason=diagnosis.reason)
    elif diagnosis.outcome == Outcome.UNKNOWN and diagnosis_read:
        add("diagnosis_mismatch", "diagnosis", read=diagnosis_read, expected=claim, rule="诊断须与申请病种相符",
            confidence=min(diagnosis.confidence, UNCERTAIN), reason=diagnosis.reason)
    return found


def satisfies(doc: DocumentReport, rule: MaterialRule) -> bool:
    if not is_readable(doc) or not rule.of_its_type(doc.doc_type, doc.kind):
        return False
    if doc.identity_kind and doc.identity_kind in rule.exclude_identity_kinds:
        return False
    # 代办: the agent's own ID card proves the agent's identity only, and no other card proves theirs.
    agents = doc.checks.identity.holder == "agent"
    if doc.doc_type == DocType.ID_CARD and agents != (rule.holder == "agent"):
        return False
    return not rule.keywords or any(word in doc.text for word in rule.keywords)


def missing_finding(material: str, rule: MaterialRule, documents: list[DocumentReport]) -> Evidence:
    """A required material no document satisfies; as sure as no readable document was nearly typed
    as one and no document of its type is unreadable only doubtfully (a weak ``unreadable`` flag)."""
    doubt = max((_likelihood(doc, rule) for doc in documents
                 if is_readable(doc) and not rule.of_its_type(doc.doc_type, doc.kind)), default=0.0)
    doubt = max([doubt, *(1.0 - doc.checks.quality.confidence for doc in documents
                          if doc.error is None and not is_readable(doc) and rule.of_its_type(doc.doc_type, doc.kind))])
    if any(_identifies_in_another_form(doc, rule) for doc in documents):
        doubt = max(doubt, 1.0 - UNCERTAIN)
    return Evidence(code=f"missing:{material}", read="未找到", expected=rule.label, rule=f"必备材料：{rule.label}",
                    confidence=round(1.0 - doubt, 3), reason=f"缺少{rule.label}")


# Identity documents that print the holder's number (the 国徽面 of the ID card does not).
_NUMBERED_IDENTITY_KINDS = frozenset({"resident_id_front", "social_security_card", "medical_insurance_code"})


def _identifies_in_another_form(doc: DocumentReport, rule: MaterialRule) -> bool:
    """A readable card that does identify the applicant (its number checked and matching) in a form the
    region does not name, e.g. a 医保电子凭证 where the source lists the ID card and the 社会保障卡:
    whether it will do is the reviewer's call, so its ``missing`` is a flag, not a demand."""
    return (is_readable(doc) and rule.of_its_type(doc.doc_type, doc.kind)
            and doc.identity_kind in rule.exclude_identity_kinds
            and doc.identity_kind in _NUMBERED_IDENTITY_KINDS
            and doc.checks.identity.outcome == Outcome.PASS)


def _likelihood(doc: DocumentReport, rule: MaterialRule) -> float:
    """How likely the classifier found it that ``doc`` is of the material's type (and kind)."""
    types = [t for t in rule.doc_types if not (t == DocType.OTHER and rule.kinds)]
    return (sum(doc.type_scores.get(t, 0.0) for t in types)
            + sum(doc.kind_scores.get(k, 0.0) for k in rule.kinds))


@dataclass(frozen=True)
class Assessment:
    verdict: Verdict
    problems: list[str]
    materials: dict[str, list[str]]
    notice: str
    review_due: dt.date
    evidence: list[Evidence]
    review_flags: list[Evidence]
    review_due_estimated: bool = False  # a day counted lies in a year without a holiday schedule


def assess(application: Application, policy: Policy, documents: list[DocumentReport], *,
           submitted: dt.date, complex_case: bool = False) -> Assessment:
    """Verdict, problems, reviewer flags, deadline and notice for a round whose documents (those in
    effect) have all been analysed; ``submitted`` is the round's submission date, from which the
    deadline is counted (a 补正 round restarts it); ``complex_case``: a reviewer marked the case
    complex (the policy's longer deadline). Sets each document's problems and flags."""
    rules = policy.materials_for(application.disease, proxy=application.agent is not None)
    named = {str(kind) for rule in rules.values() for kind in rule.kinds}
    for doc in documents:
        _measure_recency(doc, policy, submitted, kinds_named=named)
    materials_of = {id(doc): {m for m, rule in rules.items() if satisfies(doc, rule)} for doc in documents}
    materials = {material: [doc.file for doc in documents if material in materials_of[id(doc)]] for material in rules}
    findings = [missing_finding(material, rules[material], documents) for material, files in materials.items()
                if not files]
    # Names read on the applicant's own documents (not the agent's card, not a relationship proof).
    names = {id(doc): name for doc in documents if (name := doc.fields.get("patient_name"))
             and doc.checks.identity.holder != "agent" and not is_relationship_proof(doc)}
    relations = {id(doc): doc.text for doc in documents if is_relationship_proof(doc) and is_readable(doc)}
    per_doc = {id(doc): document_findings(doc, policy, application,
                                          other_names=[n for key, n in names.items() if key != id(doc)],
                                          relation_texts=[t for key, t in relations.items() if key != id(doc)])
               for doc in documents}
    found = {key: [f.code for f in fs if policy.tells_applicant(f.code, f.confidence)] for key, fs in per_doc.items()}
    for doc in documents:
        cure = _cured_by(doc, documents, found, materials_of) if per_doc[id(doc)] else None
        doc.cleared_by = cure.file if cure else None
        own = [] if cure else per_doc[id(doc)]
        doc.problems = [f.code for f in own if policy.tells_applicant(f.code, f.confidence)]
        doc.review_flags = [f.code for f in own if not policy.tells_applicant(f.code, f.confidence)]
        findings.extend(own)
    evidence = [f for f in findings if policy.tells_applicant(f.code, f.confidence)]
    flags = [f for f in findings if not policy.tells_applicant(f.code, f.confidence)]
    problems = [f.code for f in evidence]
    verdict = Verdict.NEEDS_SUPPLEMENT if problems else Verdict.READY_FOR_REVIEW
    deadline = policy.review_deadline(submitted, complex_case=complex_case)
    due = deadline.date
    notice = compose_notice(application, rules, documents, problems, review_due=due)
    return Assessment(verdict=verdict, problems=problems, materials=materials, notice=notice, review_due=due,
                      evidence=evidence, review_flags=flags, review_due_estimated=deadline.estimated)


# A name shown on a relationship proof: exactly, or one character off (OCR), which only a reviewer
# can settle.
_SHOWN, _NEARLY, _ABSENT = 1.0, 0.5, 0.0


def name_shown(name: str, text: str) -> float:
    """Whether ``name`` is written in ``text`` (spaces and full-width forms aside): 1.0 exactly, 0.5
    with one character misread (same length, one glyph off), 0.0 not at all."""
    name, text = _fold(name), _fold(text)
    if not name:
        return _ABSENT
    if name in text:
        return _SHOWN
    if len(name) >= 2 and any(
        sum(a != b for a, b in zip(name, text[i:i + len(name)], strict=True)) == 1
        for i in range(len(text) - len(name) + 1)
    ):
        return _NEARLY
    return _ABSENT


def _fold(text: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text or ""))


def relation_findings(doc: DocumentReport, application: Application, *,
                      other_texts: Sequence[str] = ()) -> list[Evidence]:
    """A relationship proof (代办) must show the applicant's and the agent's names, on this page or,
    for a name this page lacks, on another relationship proof of the application (a 户口本 page is
    one person's). Neither name on a page read well is the applicant's to fix (another family's
    page); one name missing, or a name only nearly read, is a reviewer's flag: the page may be the
    family's other page, or the OCR slipped."""
    assert application.agent is not None
    wanted = {"申请人": application.applicant_name, "代办人": application.agent.name}
    here = {who: name_shown(name, doc.text) for who, name in wanted.items()}
    anywhere = {who: max([here[who], *(name_shown(wanted[who], t) for t in other_texts)]) for who in wanted}
    if all(v == _SHOWN for v in anywhere.values()):
        return []
    read_well = len(_fold(doc.text)) >= 20 and doc.checks.quality.outcome == Outcome.PASS
    if all(v == _ABSENT for v in here.values()):
        confidence = 0.9 * min(doc.checks.quality.confidence, 1.0) if read_well else UNCERTAIN
        why = "材料上未见申请人与代办人的姓名"
    else:
        confidence = UNCERTAIN
        lacking = [f"{who}“{wanted[who]}”" for who, v in anywhere.items() if v != _SHOWN]
        why = f"未能确认{'、'.join(lacking)}的姓名（可能在户口本其他页，或识别有误）"
    return [Evidence(code=f"relation_unproven:{doc.file}", file=doc.file, read=doc.fields.get("patient_name"),
                     expected=f"{application.applicant_name}与{application.agent.name}的姓名",
                     rule="代办须提供代办人与申请人的关系证明（六盘水市：如代办，需提供代办人身份证及关系证明）",
                     confidence=round(confidence, 3), reason=why)]


def _measure_recency(doc: DocumentReport, policy: Policy, submitted: dt.date, *, kinds_named: set[str]) -> None:
    # The worker read the document before it was submitted; its age counts from the submission. An
    # `other` document's kind sets its limit only where a material names the kind (else it is
    # checked for nothing, and a prescription in any application would show a failed recency).
    if doc.error is None and doc.doc_type is not None:
        date = doc.fields.get("doc_date") or doc.checks.recency.date
        source = doc.field_sources.get("doc_date")
        bound_source = doc.field_sources.get(DATE_NOT_BEFORE)
        kind = doc.kind if doc.kind in kinds_named else None
        doc.checks.recency = check_recency(date, submitted, policy.recency_limit(doc.doc_type, kind),
                                           confidence=source.confidence if source else None,
                                           not_before=doc.extra_fields.get(DATE_NOT_BEFORE),
                                           not_before_confidence=bound_source.confidence if bound_source else None)


def _cured_by(doc: DocumentReport, documents: list[DocumentReport], found: dict[int, list[str]],
              materials_of: dict[int, set[str]]) -> DocumentReport | None:
    """A later document of the same material without problems, which clears ``doc``'s problems and
    flags."""
    if not materials_of[id(doc)]:
        return None
    for later in documents:
        if later.round > doc.round and not found[id(later)] and materials_of[id(later)] & materials_of[id(doc)]:
            return later
    return None


def assess_round(
    application: Application,
    policy: Policy,
    documents: list[DocumentReport],
    *,
    case_id: str,
    submitted_at: dt.datetime,
    submitted: dt.date,
    fingerprint: str,
    application_id: str | None = None,
    round_: int = 1,
    complex_case: bool = False,
) -> Report:
    """The report of one submission round: the assessment and every document's part."""
    assessment = assess(application, policy, documents, submitted=submitted, complex_case=complex_case)
    return Report(
        case_id=case_id,
        application_id=application_id,
        round=round_,
        verdict=assessment.verdict,
        problems=assessment.problems,
        notice=assessment.notice,
        documents=documents,
        applicant_name=application.applicant_name,
        id_number=application.id_number,
        disease=application.disease,
        region=application.region,
        agent=application.agent.model_dump() if application.agent else None,
        policy=policy.region,
        application_date=application.application_date.isoformat(),
        as_of=submitted.isoformat(),
        submitted_at=submitted_at.isoformat(),
        review_due=assessment.review_due.isoformat(),
        review_due_estimated=assessment.review_due_estimated,
        materials=assessment.materials,
        fingerprint=fingerprint,
        evidence=assessment.evidence,
        review_flags=assessment.review_flags,
    )


def compose_notice(
    application: Application,
    rules: dict[str, MaterialRule],
    documents: list[DocumentReport],
    problems: list[str],
    *,
    review_due: dt.date,
) -> str:
    """The 一次性告知 notice: every defect and what to upload instead, in plain Chinese."""
    greeting = f"{application.applicant_name}您好："
    claim = f"您申请的门诊慢特病（{application.disease}）待遇认定材料"
    if not problems:
        due = review_due
        return (
            f"{greeting}{claim}已齐全，预审未发现问题，已转入人工审核，"
            f"预计于{due.year}年{due.month}月{due.day}日前完成审核。"
        )
    by_file = {doc.file: doc for doc in documents}
    items = [_explain(code, application, rules, by_file) for code in problems]
    lines = [f"{greeting}{claim}经预审，存在以下{len(items)}项问题，请一次性补正后重新提交："]
    lines += [f"{n}. {item}" for n, item in enumerate(items, start=1)]
    lines.append("以上为本次预审发现的全部问题，补正后将重新审核。")
    return "\n".join(lines)


def _explain(
    code: str, application: Application, rules: dict[str, MaterialRule], by_file: dict[str, DocumentReport]
) -> str:
    kind, _, subject = code.partition(":")
    if kind == "missing":
        rule = rules.get(subject)
        label = rule.label if rule else subject
        return f"缺少{label}，请补充上传。"
    doc = by_file[subject]
    # Names are data: one line, no markup, bounded (intake.names), whatever path the report came by.
    what = f"《{display_name(doc.file)}》（{document_label(doc)}）"
    checks = doc.checks
    hospital = checks.hospital.canonical_name or doc.fields.get("hospital_name") or "出具医院"
    match kind:
        case "unreadable":
            reason = doc.error or checks.quality.reason or "无法识别"
            return f"{what}无法识别：{reason}"
        case "seal_missing":
            return f"{what}未见出具医院的红色公章，请到{hospital}加盖公章后重新拍照上传。"
        case "seal_mismatch":
            seal = f"「{checks.seal.text}」" if checks.seal.text else ""
            return f"{what}所盖公章{seal}不是出具医院{hospital}的公章，请提供由出具医院加盖本院公章的材料。"
        case "signature_missing":
            return f"{what}未见医生签字或签章，请到{hospital}由接诊医生签字（或加盖医师签章）后重新拍照上传。"
        case "grade_too_low":
            grade = checks.hospital.grade or "等级不足"
            return (
                f"{what}由{hospital}（{grade}）出具，不符合二级及以上定点医院出具的要求，"
                f"请到二级及以上定点医院开具。"
            )
        case "hospital_unknown":
            name = doc.fields.get("hospital_name")
            named = f"「{name}」" if name else "无法识别，"
            return (
                f"{what}的出具医院{named}未在定点医疗机构名录中找到，"
                f"请上传医院名称清晰完整的材料，或提供二级及以上定点医院出具的材料。"
            )
        case "stale":
            recency = checks.recency
            limit = recency.limit_days or 0
            period = "三个月" if limit <= 92 else "一年"
            return (
                f"{what}出具日期为{recency.date}，距申请日已{recency.age_days}天，超过{limit}天的时限，"
                f"请提供近{period}内的{document_label(doc)}。"
            )
        case "relation_unproven" if application.agent:
            return (
                f"{what}上未能看到申请人{application.applicant_name}与代办人{application.agent.name}的姓名，"
                f"请上传能证明二人关系的户口本相关页（含双方姓名）、出生医学证明或亲属关系证明。"
            )
        case "identity_mismatch" if checks.identity.holder == "agent" and application.agent:
            return (
                f"{what}上的姓名或身份证号码与代办人{application.agent.name}不一致，"
                f"请上传代办人本人的身份证件。"
            )
        case "identity_mismatch":
            return (
                f"{what}上的姓名或身份证号码与申请人{application.applicant_name}不一致，"
                f"请核对后上传申请人本人的材料。"
            )
        case "id_invalid":
            number = doc.fields.get("id_number") or ""
            return f"{what}上的身份证号码{number}校验不通过，请上传清晰、完整、未遮挡的身份证人像面照片。"
        case "diagnosis_mismatch":
            diagnosis = doc.fields.get("diagnosis") or ""
            return (
                f"{what}的诊断「{diagnosis}」与申请的病种（{application.disease}）不符，"
                f"请提供能证明{application.disease}诊断的材料。"
            )
    return f"{what}存在问题：{code}"
