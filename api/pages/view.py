"""What the reviewers' pages show, in plain Chinese: labels of codes, each check explained, and the
boxes drawn over a document's pages. Presentation only: every value comes from the service layer's
case file (``intake.workspace.casefile``) or queue page, never from a query of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from classifiers.types import DocType
from intake.assess import DOC_TYPE_LABELS, KIND_LABELS
from intake.models import ApplicationStatus
from intake.reasons import REJECT_REASONS, RETAKE_REASONS
from intake.report import FIELD_NAMES
from intake.workspace.page_images import PageRef

OUTCOME_LABELS = {"pass": "通过", "fail": "不通过", "unknown": "无法判断", "not_applicable": "不适用"}
STATUS_LABELS = {
    ApplicationStatus.DRAFT: "草稿", ApplicationStatus.PRESCREENING: "预审中",
    ApplicationStatus.READY_FOR_REVIEW: "待审核", ApplicationStatus.NEEDS_SUPPLEMENT: "待补正",
    ApplicationStatus.APPROVED: "已批准", ApplicationStatus.REJECTED: "已驳回",
}
VERDICT_LABELS = {"ready_for_review": "材料齐全", "needs_supplement": "需补正"}
TYPE_LABELS = {str(k): v for k, v in DOC_TYPE_LABELS.items()}
# What a document can be re-typed to: the six types, and the kinds of `other` a rule can name
# ("other:<kind>", split again by ``retype_choice``).
RETYPE_CHOICES = [(str(t), label) for t, label in DOC_TYPE_LABELS.items()] + [
    (f"other:{k}", f"{DOC_TYPE_LABELS.get(DocType.OTHER, '其他材料')}·{label}") for k, label in KIND_LABELS.items()]


def retype_value(doc_type: str | None, kind: str | None) -> str:
    """The re-type choice a document's current type and kind correspond to."""
    if doc_type == "other" and kind and str(kind) in {str(k) for k in KIND_LABELS}:
        return f"other:{kind}"
    return str(doc_type)


def type_label(doc_type: str | None, kind: str | None) -> str:
    """A document's type in words, with its kind where a rule can name it (其他材料·治疗记录)."""
    return dict(RETYPE_CHOICES).get(retype_value(doc_type, kind), "未识别类型")


def retype_choice(value: str) -> tuple[str, str | None]:
    """A re-type choice as (doc_type, kind)."""
    doc_type, _, kind = value.partition(":")
    return doc_type, kind or None
FIELD_LABELS = {
    "patient_name": "姓名", "gender": "性别", "id_number": "身份证号", "hospital_name": "医院",
    "department": "科室", "diagnosis": "诊断", "doc_date": "日期", "seal": "公章",
}
assert set(FIELD_NAMES) <= set(FIELD_LABELS)
# Problem codes (DESIGN.md, "extend, don't rename") and reviewer-flag kinds.
PROBLEM_LABELS = {
    "missing": "缺少材料", "seal_missing": "缺少公章", "seal_mismatch": "公章与出具医院不符",
    "signature_missing": "缺少医生签字", "grade_too_low": "医院等级不足", "hospital_unknown": "医院不在名录",
    "stale": "超过时限", "identity_mismatch": "身份不符", "id_invalid": "身份证号无效",
    "diagnosis_mismatch": "诊断不符", "unreadable": "无法识别", "relation_unproven": "代办关系未证明",
    "retake": "需重拍",
}
QUALITY_LABELS = {"blur": "模糊", "too_small": "分辨率过低", "too_dark": "过暗", "glare": "反光", "cropped": "不完整",
                  "no_text": "未见文字", "unreadable_file": "文件无法读取"}
CHECK_LABELS = {"seal": "公章", "hospital": "医院及等级", "recency": "时效", "identity": "身份", "quality": "图像质量",
                "diagnosis": "诊断", "signature": "医生签字"}
ACTION_LABELS = {
    "case.viewed": "查看案件", "case.claimed": "认领", "case.released": "释放", "case.reassigned": "改派",
    "case.reassessed": "重新评估", "document.field_edited": "修改字段", "document.retyped": "重新归类",
    "document.marked": "标记材料", "review.decided": "作出决定", "application.created": "创建申请",
    "application.submitted": "提交材料", "application.assessed": "预审完成", "application.rescanned": "重新扫描",
    "application.complex_marked": "标为复杂病例", "application.complex_unmarked": "取消复杂病例",
    "document.queued": "排队识别", "document.done": "识别完成", "document.failed": "材料无法识别",
    "document.received": "收到材料", "document.processing": "识别材料", "document.retry": "重试识别",
    "document.requeued": "重新排队", "document.dead": "识别失败", "document.replaced": "材料被替换",
    "document.withdrawn": "材料撤回", "document.reinstated": "材料恢复", "callback.resent": "重发回调",
    "qualification.recorded": "记录资格",
}


DECISION_LABELS = {"approve": "批准", "reject": "驳回", "request_supplement": "要求补正"}
MARK_LABELS = {"accepted": "材料合格", "retake": "需重拍"}
# The audit details a reviewer reads in a case's history, by key; keys not listed (ids of rows,
# run ids, workers' internals) are left out.
DETAIL_LABELS = {
    "round": "轮次", "revision": "版本", "documents": "材料数", "verdict_before": "原结论", "verdict": "结论",
    "old_verdict": "原结论", "new_verdict": "新结论", "problems_before": "原问题", "problems": "问题",
    "problems_added": "新增问题", "problems_removed": "消除问题", "review_due": "审核截止", "holder": "原认领人",
    "previous": "原值", "to": "改派给", "why": "原因", "field": "字段", "doc_type": "识别为", "decision": "决定",
    "error": "原因",
    "reasons": "理由", "prescreen_verdict": "预审结论", "mark": "标记", "attempts": "尝试次数",
    "approved_on": "批准日期", "valid_until": "资格有效期至",
}
# The same key, said otherwise for one action.
ACTION_DETAIL_LABELS = {("case.reassigned", "previous"): "原认领人", ("document.retyped", "previous"): "原类型",
                        ("document.retyped", "doc_type"): "改为"}
WHY_LABELS = {"released": "主动释放", "decided": "已作出决定", "user disabled": "账号停用",
              "field edited": "修改字段", "retyped": "重新归类"}


def actor_label(actor: str) -> str:
    """Who did it, in words: a user by name, the machinery by what it is, an app by its channel."""
    kind, _, name = actor.partition(":")
    if kind == "user" and name:
        return name
    if kind == "worker":
        return "预审程序"
    if kind == "rescan":
        return "重新扫描"
    if actor in ("reconciler", "cli", "system"):
        return {"reconciler": "系统", "cli": "管理员（命令行）", "system": "系统"}[actor]
    return f"渠道 {actor}"


def _detail_value(key: str, value: Any, action: str, materials: dict[str, str] | None = None) -> str:
    if value is None or value == "" or value == []:
        return "—" if key in ("previous", "holder") else ""
    if key in ("verdict", "verdict_before", "old_verdict", "new_verdict", "prescreen_verdict"):
        return VERDICT_LABELS.get(value, str(value))
    if key.startswith("problems"):
        return "、".join(problem_label(p, materials) for p in value) if isinstance(value, list) else str(value)
    if key == "decision":
        return DECISION_LABELS.get(value, str(value))
    if key == "mark":
        return MARK_LABELS.get(value, str(value))
    if key == "reasons" and isinstance(value, list):
        labels = RETAKE_REASONS if action == "document.marked" else REJECT_REASONS
        reasons: list[str] = value
        return "、".join(labels.get(r, r) for r in reasons)
    if key == "field":
        return "材料类型" if value == "doc_type" else FIELD_LABELS.get(value, str(value))
    if key == "doc_type" or (key == "previous" and action == "document.retyped"):
        return TYPE_LABELS.get(value, str(value))
    if key == "why":
        return WHY_LABELS.get(value, str(value))
    if key == "round":
        return f"第{value}轮"
    return str(value)


def history_detail(action: str, detail: dict[str, Any] | None, document: str | None = None,
                   materials: dict[str, str] | None = None) -> str:
    """An audit event's detail as one readable line: labelled, codes turned into their Chinese names,
    the document by its file name; internal ids left out."""
    parts = [f"材料：{document}"] if document else []
    for key, value in (detail or {}).items():
        label = ACTION_DETAIL_LABELS.get((action, key)) or DETAIL_LABELS.get(key)
        if label is None:
            continue
        shown = _detail_value(key, value, action, materials)
        if shown:
            parts.append(f"{label}：{shown}")
    return "；".join(parts)


def problem_kind(code: str) -> str:
    return code.partition(":")[0]


def problem_label(code: str, materials: dict[str, str] | None = None) -> str:
    """A problem code in words; a missing material by its name (``materials``: the region's labels,
    else a document type's), never its code."""
    kind, _, subject = code.partition(":")
    label = PROBLEM_LABELS.get(kind, kind)
    if kind == "missing" and subject:
        subject = (materials or {}).get(subject) or TYPE_LABELS.get(subject) or subject
    return f"{label}：{subject}" if subject else label


def _yes_no(value: bool | None, yes: str, no: str, unknown: str = "") -> str:
    return yes if value is True else no if value is False else unknown


def check_detail(name: str, check: dict[str, Any]) -> str:
    """What a check found, in a few plain words (its ``reason`` is shown beside it)."""
    if name == "seal":
        if not check.get("present"):
            return "未见公章"
        text = f"「{check['text']}」" if check.get("text") else "（印章文字未能读出）"
        return f"见公章{text}" + _yes_no(check.get("matches_issuer"), "，与出具医院一致", "，与出具医院不一致")
    if name == "hospital":
        if not check.get("canonical_name"):
            return f"未在名录中找到「{check['matched_from']}」" if check.get("matched_from") else "未识别出医院"
        return f"{check['canonical_name']}（{check.get('grade') or '未定级'}）"
    if name == "recency":
        if not check.get("date"):
            return "未识别出日期"
        parts = [f"所用日期 {check['date']}"]
        if check.get("age_days") is not None:
            parts.append(f"距申请 {check['age_days']} 天")
        if check.get("limit_days") is not None:
            parts.append(f"时限 {check['limit_days']} 天")
        return "，".join(parts)
    if name == "identity":
        parts = [_yes_no(check.get("name_matches"), "姓名一致", "姓名不一致"),
                 _yes_no(check.get("id_matches"), "身份证号一致", "身份证号不一致"),
                 _yes_no(check.get("id_valid"), "号码校验通过", "号码校验不通过")]
        if check.get("holder") == "agent":
            parts.append("代办人的证件")
        return "，".join(p for p in parts if p) or "未识别出姓名或号码"
    if name == "quality":
        problems = [QUALITY_LABELS.get(p, p) for p in check.get("problems") or []]
        return "、".join(problems) if problems else "清晰"
    if name == "diagnosis":
        if check.get("matched_term"):
            return f"识别为「{check['matched_term']}」" + (f"（{check['icd10']}）" if check.get("icd10") else "")
        return ""
    if name == "signature":
        return {"handwritten": "见手写签名", "stamp": "见医师签章", "printed_name": "见打印的医师姓名（电子病历签名）",
                "none": "签名处空白"}.get(check.get("kind") or "", "")
    return ""


@dataclass(frozen=True)
class CheckRow:
    name: str
    label: str
    outcome: str
    outcome_label: str
    confidence: float | None
    detail: str
    reason: str


def check_rows(report: dict[str, Any]) -> list[CheckRow]:
    rows = []
    for name, check in (report.get("checks") or {}).items():
        if not isinstance(check, dict) or "outcome" not in check:
            continue
        outcome: str = check["outcome"]
        rows.append(CheckRow(name=name, label=CHECK_LABELS.get(name, name), outcome=outcome,
                             outcome_label=OUTCOME_LABELS.get(outcome, outcome),
                             confidence=check.get("confidence"), detail=check_detail(name, check),
                             reason=check.get("reason") or ""))
    return rows


@dataclass(frozen=True)
class Box:
    """A rectangle over a page, in normalised page pixels (the SVG viewBox's units)."""

    key: str  # "field:patient_name", "seal", "evidence:3"
    kind: str  # field | seal | evidence
    label: str
    x: float
    y: float
    w: float
    h: float


def _box(key: str, kind: str, label: str, box: list[float]) -> Box:
    x0, y0, x1, y1 = box
    return Box(key=key, kind=kind, label=label, x=x0, y=y0, w=max(x1 - x0, 1.0), h=max(y1 - y0, 1.0))


@dataclass(frozen=True)
class PageView:
    ref: PageRef  # number (0-based), size, image URL
    boxes: list[Box]

    @property
    def number(self) -> int:
        return self.ref.number

    @property
    def size(self) -> Any:
        return self.ref.size


def page_views(report: dict[str, Any] | None, refs: list[PageRef],
               evidence: list[tuple[str, dict[str, Any]]]) -> list[PageView]:
    """Each page of a document with the boxes on it: its fields, its seal and the evidence of the
    problems and flags that point into it (``evidence``: (its key on the page, evidence))."""
    pages = [PageView(ref=ref, boxes=[]) for ref in refs]
    if report is None:
        return pages
    for name, source in (report.get("field_sources") or {}).items():
        page, box = source.get("page"), source.get("box")
        if box and page is not None and 0 <= page < len(pages):
            kind = "seal" if name == "seal" else "field"
            key = "seal" if name == "seal" else f"field:{name}"
            pages[page].boxes.append(_box(key, kind, FIELD_LABELS.get(name, name), box))
    for key, ev in evidence:
        page, box = ev.get("page"), ev.get("box")
        if box and page is not None and 0 <= page < len(pages):
            pages[page].boxes.append(_box(key, "evidence", problem_label(ev["code"]), box))
    return pages
