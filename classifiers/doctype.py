"""Document type from OCR text: lexicon scoring of titles, body keywords and page structure.

Titles are the strongest evidence but cannot be relied on alone: photos cut them off, OCR misreads
them (诊断证明苦, 出院小洁) and some pages (a cropped lab table) have none. So each type's score adds
  * its best title match in any row (fuzzy, weighted down when the row is not near the top),
  * its body keywords, each once, capped per type (data/doctype_keywords.yaml),
  * structure the code counts: lab result rows (value, reference range, unit), an ID number next
    to 民族/住址 on a page no other document's title or wording claims, an ID card back's 签发机关 +
    有效期限, admission and discharge dates together, a 病案首页's own fields.
``other`` gets a baseline, so a page with no evidence for anything is ``other``; invoices and
prescriptions have their own strong titles and money/drug vocabulary so a hospital's invoice
never passes for a medical document.

A certificate's shared wording (兹证明, 特此证明) makes a diagnosis certificate only on a page with
medical evidence (医院, 诊断, 科室, 医师 …) and no non-medical issuer (村委会, 居委会, 派出所, 公司,
学校, 街道办事处): a 村委会's 证明 or an 在职证明 with a red seal is ``other``, never a diagnosis
certificate whose "hospital" is then unknown. A blank page (``classifiers.quality.blank_page``,
when the page images are given) is ``other`` with a ``blank`` score.

Kinds of ``other`` (issue 14: a 户口本 page, an 出生医学证明 or 亲属关系证明; a dialysis or chemotherapy
record; a prescription, medication list or long-term orders) are scored from a lexicon of their own
(``kinds`` in the data file) after the six types, which the report contract fixes and which are
scored as they always were. A page whose kind evidence is clear (``KIND_MIN``) counts as ``other``
at least that strongly, and an ``other`` page takes its strongest clear kind as ``kind``; the only
six-way changes are the proofs' own signals: a page naming a household (户主, 户号 …) is no ID card
by its layout, and a relationship proof's certificate wording (a hospital's 出生医学证明) makes no
diagnosis certificate.

``confidence`` is the winner's softmax probability over every type's score: near 0.5 or below when
two types are close, high only when the winner leads clearly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import numpy as np
import yaml
from rapidfuzz import fuzz

from classifiers.dates import find_dates
from classifiers.fields import Row, build_rows
from classifiers.quality import blank_page
from classifiers.text import compact, fix_digit_confusions
from classifiers.types import Classification, DocType, IdentityKind, OtherKind
from ocr.types import OcrResult

LEXICON_PATH = Path(__file__).parent / "data" / "doctype_keywords.yaml"

# A page with nothing recognisable is "other"; real documents beat this easily.
OTHER_BASELINE = 2.5
# Softmax temperature turning raw scores into the per-type probabilities reported.
TEMPERATURE = 2.0
# Rows whose top is within this fraction of the page height count as the title area.
TITLE_AREA = 0.3
# A title found lower on the page (a mention in the text, a footer) counts for this much.
LOW_TITLE_FACTOR = 0.4
# A fuzzy (not exact) title match counts for this much, so an exact title of another type wins.
FUZZY_TITLE_FACTOR = 0.65
# Kind evidence (title + body + structure) from which a page is that kind of `other` document: a
# title alone (6) or a title cut off but four or five of the kind's own words. A discharge summary's
# 出院带药 (用法, 口服) or a cancer patient's record naming a 化疗方案 stays below it.
KIND_MIN = 5.0


@dataclass(frozen=True, slots=True)
class TypeLexicon:
    titles: tuple[str, ...]
    body: tuple[tuple[str, float], ...]
    body_cap: float


@dataclass(frozen=True, slots=True)
class CertificateLexicon:
    words: tuple[tuple[str, float], ...]
    cap: float
    medical_evidence: tuple[str, ...]
    non_medical_issuers: tuple[str, ...]
    issuer_weight: float


@dataclass(frozen=True, slots=True)
class Lexicon:
    title_weight: float
    types: dict[DocType, TypeLexicon]
    certificate: CertificateLexicon
    kinds: dict[OtherKind, TypeLexicon]


@lru_cache(maxsize=4)
def load_lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    """The keyword lexicon, with every keyword folded like the OCR text it is compared with."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))

    def entry(spec: dict) -> TypeLexicon:
        return TypeLexicon(
            titles=tuple(compact(str(t)) for t in spec.get("titles", [])),
            body=tuple((compact(str(k)), float(w)) for k, w in spec.get("body", [])),
            body_cap=float(spec.get("body_cap", 8.0)),
        )

    types = {DocType(name): entry(spec) for name, spec in data["types"].items()}
    kinds = {OtherKind(name): entry(spec) for name, spec in (data.get("kinds") or {}).items()}
    cert = data.get("certificate", {})
    certificate = CertificateLexicon(
        words=tuple((compact(str(k)), float(w)) for k, w in cert.get("words", [])),
        cap=float(cert.get("cap", 7.0)),
        medical_evidence=tuple(compact(str(k)) for k in cert.get("medical_evidence", [])),
        non_medical_issuers=tuple(compact(str(k)) for k in cert.get("non_medical_issuers", [])),
        issuer_weight=float(cert.get("issuer_weight", 0.0)),
    )
    return Lexicon(title_weight=float(data.get("title_weight", 6.0)), types=types, certificate=certificate,
                   kinds=kinds)


# --------------------------------------------------------------------------------------------
# Evidence
# --------------------------------------------------------------------------------------------


def _title_similarity(title: str, row_text: str) -> float:
    """1.0 for an exact title in the row, a fuzzy factor for a near miss, else 0."""
    if title in row_text:
        return 1.0
    if len(title) <= 3 or len(row_text) < len(title) - 1:
        return 0.0
    # One wrong character in 4–6, two in longer titles: OCR slips, not different words.
    errors = 1 if len(title) <= 6 else 2
    threshold = 100.0 * (1 - errors / len(title)) - 0.5
    return FUZZY_TITLE_FACTOR if fuzz.partial_ratio(title, row_text) >= threshold else 0.0


K = TypeVar("K", DocType, OtherKind)


def _title_scores(
    rows: Sequence[Row], specs: dict[K, TypeLexicon], title_weight: float, page_heights: dict[int, float]
) -> dict[K, float]:
    """Each entry's best title score (the six types, or the kinds of `other`: scored apart)."""
    scores = dict.fromkeys(specs, 0.0)
    first_page = rows[0].page if rows else 0
    for row in rows:
        text = compact(row.text)
        if not text:
            continue
        top = row.page == first_page and row.box.y0 <= TITLE_AREA * page_heights.get(row.page, 1.0)
        position = 1.0 if top else LOW_TITLE_FACTOR
        # A row carries one title: take its best type only, longest match first among equals, so
        # 疾病诊断证明书 is not also counted as 诊断书 and 化验报告单 not also as 报告单.
        best: tuple[float, int, K] | None = None
        for key, spec in specs.items():
            for title in spec.titles:
                sim = _title_similarity(title, text)
                if sim and (best is None or (sim, len(title)) > (best[0], best[1])):
                    best = (sim, len(title), key)
        if best:
            value = title_weight * best[0] * position
            scores[best[2]] = max(scores[best[2]], value)
    return scores


def _body_scores(
    text: str, lexicon: Lexicon, medical_title: bool, relation_title: bool = False
) -> dict[DocType, float]:
    cert = lexicon.certificate
    certificate = _certificate_words(text, lexicon)
    non_medical_issuer = any(word in text for word in cert.non_medical_issuers)
    medical = medical_title or any(word in text for word in cert.medical_evidence)
    # Whose certificate is it? A hospital's when the page names a medical document or shows medical
    # evidence and no other kind of issuer; an exact medical title outweighs an issuer word in the text
    # (a diagnosis certificate "供单位/学校请假用"). A page titled as a relationship proof (a 派出所's or
    # 村委会's 亲属关系证明, a hospital's 出生医学证明) is that, whoever issued it.
    medical_certificate = not relation_title and (medical_title or (medical and not non_medical_issuer))
    scores: dict[DocType, float] = {}
    for doc_type, spec in lexicon.types.items():
        total = sum(weight for keyword, weight in spec.body if keyword in text)
        if certificate and doc_type == DocType.DIAGNOSIS_CERTIFICATE and medical_certificate:
            total += certificate
        scores[doc_type] = min(total, spec.body_cap)
    if certificate and not medical_certificate:
        other = certificate + (cert.issuer_weight if non_medical_issuer else 0.0)
        scores[DocType.OTHER] = scores.get(DocType.OTHER, 0.0) + other
    return scores


def _certificate_words(text: str, lexicon: Lexicon) -> float:
    cert = lexicon.certificate
    return min(sum(weight for word, weight in cert.words if word in text), cert.cap)


def _kind_body_scores(text: str, lexicon: Lexicon, relation_title: bool) -> dict[OtherKind, float]:
    """Each kind's body keywords (capped); a relationship proof's title makes the certificate
    wording (兹证明 …) its evidence too."""
    scores: dict[OtherKind, float] = {}
    for kind, spec in lexicon.kinds.items():
        total = sum(weight for keyword, weight in spec.body if keyword in text)
        if kind == OtherKind.RELATIONSHIP_PROOF and relation_title:
            total += _certificate_words(text, lexicon)
        scores[kind] = min(total, spec.body_cap)
    return scores


# A lab result: a reference range such as "3.50-10.00" / "<5.2" or a unit such as "mmol/L".
_RANGE = re.compile(r"(?<![\d.])\d+(?:\.\d+)?\s*-\s*\d+(?:\.\d+)?(?![\d.])")
_UNIT = re.compile(
    r"(?:mmol|μmol|umol|nmol|pmol|mg|g|ng|pg|μg|ug|U|IU|mIU|mU|cells|10\^?\d+|10-\d+|×10\^?\d+)\s*/\s*(?:L|l|1|dL|dl|ml|mL|μL|ul|HP)"
    r"|\bfL\b|\bfl\b|\bpg\b|mmHg"
)
_FLAG = re.compile(r"[↑↓]")
_ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
_MONEY = re.compile(r"[¥]\s*\d|\d+\.\d{2}\s*元|元\s*\d")


# The fields of the national 住院病案首页 form (卫医政发〔2011〕84号) a discharge summary does not print:
# three or more make a front sheet whose title the photo cut off a medical record, though it shows
# admission and discharge times like a summary (and the patient's ID number like a card).
_FRONT_SHEET_WORDS = ("医疗付费方式", "医疗付款方式", "病案号", "入院病情", "离院方式", "编码员", "疾病编码",
                      "实际住院", "住院次数", "入院途径")
FRONT_SHEET_MIN_WORDS = 3


_HOUSEHOLD_WORDS = ("户主", "与户主关系", "户号", "户别", "登记事项变更", "何时由何地迁来")


def _household_words(text: str) -> int:
    """How many of a 户口本 page's household words the page shows (two or more: it names a household)."""
    return sum(w in text for w in _HOUSEHOLD_WORDS)


def _structure_scores(rows: Sequence[Row], text: str, *, another_document: bool = False) -> dict[DocType, float]:
    """Evidence the code counts on the page (see the module's docstring); ``another_document``: the
    page is titled or worded as a document an ID card is not (``_another_document``)."""
    scores = dict.fromkeys(DocType, 0.0)

    lab_rows = 0
    for row in rows:
        # Dates ("2016-08-24") look like ranges; blank them out first.
        row_text = row.text
        for _, (s, e) in find_dates(row_text):
            row_text = row_text[:s] + " " * (e - s) + row_text[e:]
        if _RANGE.search(row_text) or _UNIT.search(row_text) or _FLAG.search(row_text):
            lab_rows += 1
    scores[DocType.LAB_REPORT] += 0.6 * min(lab_rows, 8)

    has_id = bool(_ID_NUMBER.search(fix_digit_confusions(text)))
    front_words = sum(w in text for w in ("民族", "住址", "出生", "公民身份"))
    # An ID card is a short page; a 病案首页 also prints 民族, 出生 and the ID number, and so does a
    # 户口本 page (常住人口登记卡), which alone names the household (户主, 与户主关系, 户号). A front
    # sheet photographed whole can read as a dozen rows: a card has no title or wording of another
    # document.
    short_page = len(rows) <= 14 and _household_words(text) < 2 and not another_document
    if has_id and front_words >= 2 and short_page:
        scores[DocType.ID_CARD] += 6.0
    elif front_words >= 3 and short_page:
        scores[DocType.ID_CARD] += 4.0  # an ID front whose number OCR mangled
    if "签发机关" in text and "有效期" in text:
        scores[DocType.ID_CARD] += 6.0

    admission = re.search(r"入院(?:日期|时间)", text)
    discharge = re.search(r"出院(?:日期|时间)", text)
    if admission and discharge:
        scores[DocType.DISCHARGE_SUMMARY] += 2.5
    if sum(w in text for w in _FRONT_SHEET_WORDS) >= FRONT_SHEET_MIN_WORDS:
        scores[DocType.MEDICAL_RECORD] += 3.0

    money = len(_MONEY.findall(text))
    scores[DocType.OTHER] += min(money, 4) * 1.0
    return scores


def _identity_kind(text: str) -> IdentityKind:
    if "医保电子凭证" in text or "医疗保障电子凭证" in text or "医保码" in text:
        return "medical_insurance_code"
    if "社会保障卡" in text or "社会保障号" in text:
        return "social_security_card"
    front = sum(w in text for w in ("公民身份", "民族", "住址", "姓名", "性别", "出生"))
    back = sum(w in text for w in ("签发机关", "有效期限", "居民身份证", "中华人民共和国"))
    return "resident_id_back" if back > front else "resident_id_front"


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageEvidence:
    """Raw (unnormalised) evidence of one page: per document type, and per kind of `other`."""

    types: dict[DocType, float]
    kinds: dict[OtherKind, float]

    def clear_kind(self) -> OtherKind | None:
        """The kind with the most evidence, when it reaches ``KIND_MIN``."""
        best = max(self.kinds, key=lambda k: self.kinds[k], default=None)
        return best if best is not None and self.kinds[best] >= KIND_MIN else None


def page_evidence(ocr: OcrResult) -> PageEvidence:
    """Raw evidence per document type and per kind of `other`, for classifying and tuning the lexicon.

    The six types score as they always did (a page that is none of the kinds keeps its type), but
    for the kinds' own signals: a page naming a household is no ID card by its layout; a relationship
    proof's certificate wording is no diagnosis certificate's; a clear kind makes `other` at least
    as strong as the kind (baseline included)."""
    lexicon = load_lexicon()
    rows = build_rows(ocr)
    text = "".join(compact(row.text) for row in rows)
    heights = {page.index: float(page.height or 1) for page in ocr.pages}
    titles = _title_scores(rows, lexicon.types, lexicon.title_weight, heights)
    kind_titles = _title_scores(rows, lexicon.kinds, lexicon.title_weight, heights)
    medical_title = titles.get(DocType.DIAGNOSIS_CERTIFICATE, 0.0) > 0
    relation_title = kind_titles.get(OtherKind.RELATIONSHIP_PROOF, 0.0) > 0
    body = _body_scores(text, lexicon, medical_title, relation_title)
    structure = _structure_scores(rows, text, another_document=_another_document(titles, body, lexicon))
    raw = {t: titles.get(t, 0.0) + body.get(t, 0.0) + structure.get(t, 0.0) for t in DocType}
    raw[DocType.OTHER] += OTHER_BASELINE

    kind_body = _kind_body_scores(text, lexicon, relation_title)
    kinds = {k: kind_titles.get(k, 0.0) + kind_body.get(k, 0.0) for k in lexicon.kinds}
    household = _household_words(text)
    if household >= 2 and OtherKind.RELATIONSHIP_PROOF in kinds:
        kinds[OtherKind.RELATIONSHIP_PROOF] += 2.0 * min(household, 3)
    found = PageEvidence(types=raw, kinds=kinds)
    if (kind := found.clear_kind()) is not None:
        raw[DocType.OTHER] = max(raw[DocType.OTHER], OTHER_BASELINE + kinds[kind])
    return found


# Body evidence of a medical document from which a page is no ID card whatever its layout: two or
# three of a record's words (病案号, 入院, 出院诊断 …); an ID card shows none.
NOT_A_CARD_BODY = 3.0
_MEDICAL_TYPES = (DocType.DIAGNOSIS_CERTIFICATE, DocType.DISCHARGE_SUMMARY, DocType.LAB_REPORT, DocType.MEDICAL_RECORD)


def _another_document(titles: dict[DocType, float], body: dict[DocType, float], lexicon: Lexicon) -> bool:
    """Whether the page is titled (exactly or fuzzily, in the title area of page 1) as a document of
    another type than an ID card, or worded as a medical document: a 病案首页 prints the patient's
    民族, 出生日期 and ID number like a card, with its title cut off by the photo."""
    titled = any(score >= FUZZY_TITLE_FACTOR * lexicon.title_weight
                 for doc_type, score in titles.items() if doc_type != DocType.ID_CARD)
    return titled or max(body.get(t, 0.0) for t in _MEDICAL_TYPES) >= NOT_A_CARD_BODY


def score_types(ocr: OcrResult) -> dict[DocType, float]:
    """Raw evidence per document type (unnormalised), for debugging and tuning the lexicon."""
    return page_evidence(ocr).types


def _kind_probabilities(found: PageEvidence, other: float) -> dict[str, float]:
    """Each kind's probability: ``other``'s probability times how clear the kind's evidence is (a
    logistic curve through 0.5 at ``KIND_MIN``)."""
    return {k.value: round(other / (1.0 + math.exp(-(s - KIND_MIN) / TEMPERATURE)), 4)
            for k, s in found.kinds.items()}


def classify(ocr: OcrResult, images: Sequence[np.ndarray | None] | None = None) -> Classification:
    """The document type with a confidence (0..1), every type's probability in ``scores`` and, for
    an id_card its identity kind, for an `other` page its clear kind (OtherKind) in ``kind``.

    With the page ``images`` (BGR, in page order), a blank or near-blank document is ``other`` with
    ``scores["blank"]`` set to how sure that is (the key is absent on every other document)."""
    found = page_evidence(ocr)
    raw = found.types
    top = max(raw.values())
    exp = {t: math.exp((s - top) / TEMPERATURE) for t, s in raw.items()}
    total = sum(exp.values())
    probs = {t: exp[t] / total for t in DocType}
    doc_type = max(probs, key=lambda t: probs[t])
    scores = {t.value: round(p, 4) for t, p in probs.items()}
    blank = blank_page(images, ocr) if images is not None else None
    if blank is not None:
        return Classification(
            doc_type=DocType.OTHER, confidence=blank.confidence, scores={**scores, "blank": blank.confidence}
        )
    kind: str | None = None
    if doc_type == DocType.ID_CARD:
        kind = _identity_kind("".join(compact(p.text) for p in ocr.pages))
    elif doc_type == DocType.OTHER and (clear := found.clear_kind()) is not None:
        kind = clear.value
    return Classification(
        doc_type=doc_type,
        confidence=round(probs[doc_type], 4),
        kind=kind,
        scores=scores,
        kind_scores=_kind_probabilities(found, probs[DocType.OTHER]),
    )
