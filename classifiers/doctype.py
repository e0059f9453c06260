"""Document type from OCR text: lexicon scoring of titles, body keywords and page structure.

Titles are the strongest evidence but cannot be relied on alone: photos cut them off, OCR misreads
them (诊断证明苦, 出院小洁) and some pages (a cropped lab table) have none. So each type's score adds
  * its best title match in any row (fuzzy, weighted down when the row is not near the top),
  * its body keywords, each once, capped per type (data/doctype_keywords.yaml),
  * structure the code counts: lab result rows (value, reference range, unit), an ID number next
    to 民族/住址, an ID card back's 签发机关 + 有效期限, admission and discharge dates together.
``other`` gets a baseline, so a page with no evidence for anything is ``other``; invoices and
prescriptions have their own strong titles and money/drug vocabulary so a hospital's invoice
never passes for a medical document.

A certificate's shared wording (兹证明, 特此证明) makes a diagnosis certificate only on a page with
medical evidence (医院, 诊断, 科室, 医师 …) and no non-medical issuer (村委会, 居委会, 派出所, 公司,
学校, 街道办事处): a 村委会's 证明 or an 在职证明 with a red seal is ``other``, never a diagnosis
certificate whose "hospital" is then unknown. A blank page (``classifiers.quality.blank_page``,
when the page images are given) is ``other`` with a ``blank`` score.

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

import numpy as np
import yaml
from rapidfuzz import fuzz

from classifiers.dates import find_dates
from classifiers.fields import Row, build_rows
from classifiers.quality import blank_page
from classifiers.text import compact, fix_digit_confusions
from classifiers.types import Classification, DocType, IdentityKind
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


@lru_cache(maxsize=4)
def load_lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    """The keyword lexicon, with every keyword folded like the OCR text it is compared with."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    types = {
        DocType(name): TypeLexicon(
            titles=tuple(compact(str(t)) for t in spec.get("titles", [])),
            body=tuple((compact(str(k)), float(w)) for k, w in spec.get("body", [])),
            body_cap=float(spec.get("body_cap", 8.0)),
        )
        for name, spec in data["types"].items()
    }
    cert = data.get("certificate", {})
    certificate = CertificateLexicon(
        words=tuple((compact(str(k)), float(w)) for k, w in cert.get("words", [])),
        cap=float(cert.get("cap", 7.0)),
        medical_evidence=tuple(compact(str(k)) for k in cert.get("medical_evidence", [])),
        non_medical_issuers=tuple(compact(str(k)) for k in cert.get("non_medical_issuers", [])),
        issuer_weight=float(cert.get("issuer_weight", 0.0)),
    )
    return Lexicon(title_weight=float(data.get("title_weight", 6.0)), types=types, certificate=certificate)


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


def _title_scores(rows: Sequence[Row], lexicon: Lexicon, page_heights: dict[int, float]) -> dict[DocType, float]:
    scores = dict.fromkeys(lexicon.types, 0.0)
    first_page = rows[0].page if rows else 0
    for row in rows:
        text = compact(row.text)
        if not text:
            continue
        top = row.page == first_page and row.box.y0 <= TITLE_AREA * page_heights.get(row.page, 1.0)
        position = 1.0 if top else LOW_TITLE_FACTOR
        # A row carries one title: take its best type only, longest match first among equals, so
        # 疾病诊断证明书 is not also counted as 诊断书 and 化验报告单 not also as 报告单.
        best: tuple[float, int, DocType] | None = None
        for doc_type, spec in lexicon.types.items():
            for title in spec.titles:
                sim = _title_similarity(title, text)
                if sim and (best is None or (sim, len(title)) > (best[0], best[1])):
                    best = (sim, len(title), doc_type)
        if best:
            value = lexicon.title_weight * best[0] * position
            scores[best[2]] = max(scores[best[2]], value)
    return scores


def _body_scores(
    text: str, lexicon: Lexicon, medical_title: bool, relation_title: bool = False
) -> dict[DocType, float]:
    cert = lexicon.certificate
    certificate = min(sum(weight for word, weight in cert.words if word in text), cert.cap)
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
        if certificate and doc_type == DocType.RELATIONSHIP_PROOF and relation_title:
            total += certificate
        scores[doc_type] = min(total, spec.body_cap)
    if certificate and not medical_certificate and not relation_title:
        other = certificate + (cert.issuer_weight if non_medical_issuer else 0.0)
        scores[DocType.OTHER] = scores.get(DocType.OTHER, 0.0) + other
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


_HOUSEHOLD_WORDS = ("户主", "与户主关系", "户号", "户别", "登记事项变更", "何时由何地迁来")


def _structure_scores(rows: Sequence[Row], text: str) -> dict[DocType, float]:
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
    # 户口本 page (常住人口登记卡), which alone names the household (户主, 与户主关系, 户号).
    household = sum(w in text for w in _HOUSEHOLD_WORDS)
    short_page = len(rows) <= 14 and household < 2
    if household >= 2:
        scores[DocType.RELATIONSHIP_PROOF] += 2.0 * min(household, 3)
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


def score_types(ocr: OcrResult) -> dict[DocType, float]:
    """Raw evidence per document type (unnormalised), for debugging and tuning the lexicon."""
    lexicon = load_lexicon()
    rows = build_rows(ocr)
    text = "".join(compact(row.text) for row in rows)
    heights = {page.index: float(page.height or 1) for page in ocr.pages}
    titles = _title_scores(rows, lexicon, heights)
    medical_title = titles.get(DocType.DIAGNOSIS_CERTIFICATE, 0.0) > 0
    relation_title = titles.get(DocType.RELATIONSHIP_PROOF, 0.0) > 0
    body = _body_scores(text, lexicon, medical_title, relation_title)
    structure = _structure_scores(rows, text)
    raw = {t: titles.get(t, 0.0) + body.get(t, 0.0) + structure.get(t, 0.0) for t in DocType}
    raw[DocType.OTHER] += OTHER_BASELINE
    return raw


def classify(ocr: OcrResult, images: Sequence[np.ndarray | None] | None = None) -> Classification:
    """The document type with a confidence (0..1) and every type's probability in ``scores``.

    With the page ``images`` (BGR, in page order), a blank or near-blank document is ``other`` with
    ``scores["blank"]`` set to how sure that is (the key is absent on every other document)."""
    raw = score_types(ocr)
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
    identity_kind = None
    if doc_type == DocType.ID_CARD:
        identity_kind = _identity_kind("".join(compact(p.text) for p in ocr.pages))
    return Classification(
        doc_type=doc_type,
        confidence=round(probs[doc_type], 4),
        identity_kind=identity_kind,
        scores=scores,
    )
