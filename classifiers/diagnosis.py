"""Does a document's diagnosis support the claimed 病种?

Three answers, because a vague diagnosis is not a problem but a contradicting one is:

- ``pass``: one of the diagnoses names the claim — a term, alias, abbreviation or ICD-10 category of the
  病种, or a printed ICD-10 code inside its ranges ("1.高血压病3级 2.2型糖尿病" supports both 高血压病 and
  糖尿病; "E11.900" supports 糖尿病; "慢性粒细胞白血病" supports 恶性肿瘤, whose ranges hold it);
- ``fail``: it clearly names other conditions (terms of other 病种, ICD-10 category names such as
  急性阑尾炎 → K35, everyday wordings such as 胆囊结石) and nothing supports the claim;
- ``unknown``: nothing recognisable (头晕待查, 复查, 体检, empty), only a related condition (糖尿病肾病 for
  慢性肾功能衰竭, another member of the claim's group such as 双相情感障碍 for 精神分裂症 under
  重性精神病), or the claim is not in the catalogue.

Mentions are read in context: "否认糖尿病" is not a diagnosis of 糖尿病; "糖尿病史" or "阑尾炎术后" is
history — it does support a chronic claim but does not contradict another one; "冠心病?" / "待排"
is a suspicion and neither supports nor contradicts; "高血压家族史" is somebody else's. Symptom
categories (ICD-10 chapter R: 头晕, 咳嗽 …) never contradict, since a symptom is what an unclear
diagnosis looks like.

OCR: a long wording (5 characters or more) read with one wrong glyph ("慢性阻塞性肺疾玻") is still
found, by edit distance, with a lower confidence; short ones (高血压, 冠心病) only as written.

``confidence`` on the check: about 0.95 for an exact wording read well, lower for history, a printed
code alone, an OCR-tolerant match, a two-character wording, a fail beside an unplaced stretch that
reads like a condition (it may be the claim in words the catalogue lacks) or one glyph from a wording
of the claim; everything is scaled down when the diagnosis field's OCR score (``read_confidence``)
is under 0.9. A fail under about 0.8 is meant for a reviewer, not the applicant.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from pathlib import Path

import yaml
from rapidfuzz.distance import Levenshtein

from classifiers.types import DiagnosisCheck, Outcome

__all__ = ["DATA_DIR", "CatalogueError", "Disease", "DiseaseCatalogue", "check_diagnosis"]

DATA_DIR = Path(__file__).parent / "data"
DISEASES_PATH = DATA_DIR / "diseases.yaml"
ICD10_PATH = DATA_DIR / "icd10cn_categories.csv"

Ranges = tuple[tuple[str, str], ...]


class CatalogueError(ValueError):
    """The disease catalogue or the ICD-10 table cannot be read."""


def _norm(text: str) -> str:
    """NFKC (full-width -> half-width, Ⅱ -> II), upper case, no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).upper()


# A claimed name is looked up without its punctuation: "高血压(有心脑肾眼并发症)" is the same 病种 as
# "高血压（有心、脑、肾、眼并发症）".
_NAME_PUNCT_RE = re.compile(r"[()\[\]{}<>【】〔〕《》、,.;:·'\"“”‘’/\\_\-—–~]")


def _name_key(text: str) -> str:
    return _NAME_PUNCT_RE.sub("", _norm(text))


_CODE_RE = re.compile(r"^([A-Z])(\d{2})")


def _category(code: str) -> str | None:
    """Category of an ICD-10 code ("E11.900", "A17+" -> "E11"); None if it is not one."""
    m = _CODE_RE.match(_norm(code))
    return m.group(1) + m.group(2) if m else None


def _ranges_text(ranges: Ranges) -> str:
    return ",".join(lo if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)


def _inside(inner: Ranges, outer: Ranges) -> bool:
    """Every range of ``inner`` lies within one range of ``outer``."""
    return bool(inner) and all(any(o_lo <= lo and hi <= o_hi for o_lo, o_hi in outer) for lo, hi in inner)


def _overlap(a: Ranges, b: Ranges) -> bool:
    return any(a_lo <= b_hi and b_lo <= a_hi for a_lo, a_hi in a for b_lo, b_hi in b)


@dataclass(frozen=True)
class Disease:
    """One 病种 of the catalogue."""

    name: str
    aliases: tuple[str, ...]
    icd10: Ranges  # inclusive ranges of three-character categories
    terms: tuple[str, ...]
    wordings: tuple[str, ...] = ()  # further supporting wordings (the generator draws only from terms)
    related: tuple[str, ...] = ()  # wordings of conditions that do not contradict this claim
    regions: tuple[tuple[str, str], ...] = ()  # (region, class) where a seed list names it

    def covers(self, code: str) -> bool:
        """Whether the ICD-10 category of ``code`` is one of this 病种's."""
        cat = _category(code)
        return cat is not None and any(lo <= cat <= hi for lo, hi in self.icd10)

    @property
    def icd10_text(self) -> str:
        return _ranges_text(self.icd10)


class _Kind(Enum):
    CATALOGUE = "catalogue"  # a name, alias, term or wording of a 病种
    ICD = "icd"  # an ICD-10 category name
    CODE = "code"  # an ICD-10 code printed in the text
    EVERYDAY = "everyday"  # an everyday wording of a condition outside the catalogue
    NEUTRAL = "neutral"  # looks like a disease, names none (癌胚抗原)


@dataclass(frozen=True)
class _Term:
    text: str  # normalised
    disease: str | None  # the catalogue 病种 it names, if any
    icd10: str | None  # its category (or the 病种's ranges) for the report
    ranges: Ranges  # the categories it stands for; empty when unknown
    kind: _Kind
    symptom: bool = False  # ICD-10 chapter R or neutral: never contradicts a claim


# ICD-10 names carry qualifiers that a doctor never writes: "肺炎,病原体未特指", "其他沙门菌感染".
_ICD_PREFIXES = ("其他和", "其他的", "其他")
_UNSPECIFIED_RE = re.compile(r"(?:未特指|特指)(?:部位|病因|类型|原因)?的?")
# A part split off at 和/及/或 is kept only when it still names a disease, not an organ
# ("支气管和肺恶性肿瘤" must not teach "支气管").
_DISEASE_CHARS = frozenset("病炎症癌瘤折伤染石痛死塞竭疹疡瘘疝痔风热毒肿障碍乱缺陷畸裂梗衰硬痹痿瘫疸痢疟痨核喘")
# Parts of ICD-10 names that are no condition on their own ("咽鼓管炎和阻塞" -> "阻塞", "第二") and
# would otherwise be read inside other wordings.
_ICD_STOP = frozenset({"情感", "转换", "断裂", "第二", "阻塞", "石棉", "炎症", "缺失", "糖尿"})
# OCR-tolerant matching: only wordings this long, with this many edits at most.
_FUZZY_MIN_LEN = 5
_FUZZY_TWO_EDITS_LEN = 10


def _icd_name_variants(name: str) -> set[str]:
    """Wordings of one ICD-10 category name worth looking for in a diagnosis."""
    head = re.split(r"[,，;；]", unicodedata.normalize("NFKC", name))[0]
    bases = {re.sub(r"\[[^\]]*\]|\([^)]*\)", "", head)}
    # "特发性(原发性)高血压" is also written "原发性高血压"; "麻风[汉森病]" also "汉森病".
    for m in re.finditer(r"\(([^)]*)\)(.*)$", head):
        bases.add(m.group(1) + re.sub(r"\([^)]*\)", "", m.group(2)))
    for m in re.finditer(r"\[([^\]]*)\]", head):
        bases.add(m.group(1))
    out: set[str] = set()
    for base in bases:
        base = _UNSPECIFIED_RE.sub("", base)
        for prefix in _ICD_PREFIXES:
            if base.startswith(prefix) and len(base) > len(prefix) + 1:
                base = base[len(prefix) :]
                break
        base = _norm(base)
        if len(base) >= 2:
            out.add(base)
        parts = [p for p in re.split(r"和|及|或|与", base) if p]
        if len(parts) > 1:
            out.update(p for p in parts if len(p) >= 2 and _DISEASE_CHARS & set(p))
    return out - _ICD_STOP


def _parse_ranges(specs: object) -> Ranges:
    ranges = []
    for spec in specs or []:  # type: ignore[attr-defined]
        lo, _, hi = str(spec).partition("-")
        lo_cat, hi_cat = _category(lo), _category(hi or lo)
        if not lo_cat or not hi_cat or hi_cat < lo_cat:
            raise ValueError(f"bad ICD-10 range {spec!r}")
        ranges.append((lo_cat, hi_cat))
    return tuple(ranges)


def _strings(values: object) -> tuple[str, ...]:
    return tuple(str(v) for v in values or [])  # type: ignore[attr-defined]


def _is_latin(ch: str) -> bool:
    return "A" <= ch <= "Z"


class DiseaseCatalogue:
    """The 病种 an application may claim, and every disease wording the checker recognises."""

    def __init__(
        self,
        diseases: list[Disease],
        icd10_names: dict[str, str] | None = None,
        *,
        other_conditions: dict[str, str | None] | None = None,
        neutral: tuple[str, ...] = (),
    ) -> None:
        self.diseases = diseases
        self.icd10_names = icd10_names or {}
        self.other_conditions = other_conditions or {}
        self.neutral = neutral
        self._by_name: dict[str, Disease] = {}
        for d in diseases:
            for n in (d.name, *d.aliases):
                self._by_name.setdefault(_name_key(n), d)

    @classmethod
    def load(cls, path: str | Path | None = None, icd10_path: str | Path | None = None) -> DiseaseCatalogue:
        """Read ``diseases.yaml`` and the ICD-10 category table (both default to ``classifiers/data``)."""
        path = Path(path) if path else DISEASES_PATH
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise CatalogueError(f"{path}: cannot read the disease catalogue: {exc}") from exc
        doc = doc or {}
        diseases = []
        for i, item in enumerate(doc.get("diseases") or []):
            try:
                diseases.append(
                    Disease(
                        name=str(item["name"]),
                        aliases=_strings(item.get("aliases")),
                        icd10=_parse_ranges(item.get("icd10")),
                        terms=_strings(item.get("terms")),
                        wordings=_strings(item.get("wordings")),
                        related=_strings(item.get("related")),
                        regions=tuple((str(k), str(v)) for k, v in (item.get("regions") or {}).items()),
                    )
                )
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise CatalogueError(f"{path}: entry {i + 1}: {exc}") from exc
        try:
            other = {str(k): (_category(str(v)) if v else None) for k, v in (doc.get("other_conditions") or {}).items()}
            neutral = _strings(doc.get("neutral"))
        except (TypeError, AttributeError) as exc:
            raise CatalogueError(f"{path}: other_conditions / neutral: {exc}") from exc
        icd_path = Path(icd10_path) if icd10_path else ICD10_PATH
        icd10_names: dict[str, str] = {}
        if icd_path.exists():
            with icd_path.open(encoding="utf-8-sig", newline="") as fh:
                for row in csv.DictReader(fh, delimiter="\t"):
                    cat = _category(row.get("code") or "")
                    if cat and row.get("disease"):
                        icd10_names.setdefault(cat, row["disease"].strip())
        return cls(diseases, icd10_names, other_conditions=other, neutral=neutral)

    def find(self, disease_name: str | None) -> Disease | None:
        """The 病种 called ``disease_name`` (its name or an alias, punctuation aside), or ``None``."""
        return self._by_name.get(_name_key(disease_name or ""))

    def disease_for_code(self, code: str) -> Disease | None:
        """The narrowest 病种 whose ranges hold ``code`` (慢性白血病 before 恶性肿瘤).

        Asked for every ICD-10 category name and every code in a diagnosis: the answer is kept per
        category (the catalogue does not change once loaded), so each is worked out once."""
        cat = _category(code)
        if cat is None:
            return None
        owners = self._owner_by_category
        if cat not in owners:
            found = [d for d in self.diseases if d.covers(cat)]
            owners[cat] = min(found, key=lambda d: _width(d.icd10), default=None)
        return owners[cat]

    @cached_property
    def _owner_by_category(self) -> dict[str, Disease | None]:
        """``disease_for_code``'s answers so far, by ICD-10 category."""
        return {}

    def groups_of(self, disease: Disease) -> list[Disease]:
        """The 病种 whose ranges hold all of ``disease``'s (重性精神病 for 精神分裂症)."""
        return [g for g in self.diseases if g is not disease and _inside(disease.icd10, g.icd10)]

    @cached_property
    def _disease_by_name(self) -> dict[str, Disease]:
        return {d.name: d for d in self.diseases}

    @cached_property
    def _terms(self) -> dict[str, _Term]:
        terms: dict[str, _Term] = {}
        # ICD-10 names first so the catalogue's own wordings (added below) win on a collision.
        for cat, name in self.icd10_names.items():
            owner = self.disease_for_code(cat)
            for v in _icd_name_variants(name):
                terms[v] = _Term(
                    v, owner.name if owner else None, cat, ((cat, cat),), _Kind.ICD, symptom=cat.startswith("R")
                )
        for text, category in self.other_conditions.items():
            v = _norm(text)
            owner = self.disease_for_code(category) if category else None
            ranges: Ranges = ((category, category),) if category else ()
            terms[v] = _Term(v, owner.name if owner else None, category, ranges, _Kind.EVERYDAY)
        for text in self.neutral:
            v = _norm(text)
            terms[v] = _Term(v, None, None, (), _Kind.NEUTRAL, symptom=True)
        for d in self.diseases:
            for t in (d.name, *d.aliases, *d.terms, *d.wordings):
                v = _norm(t)
                if v:
                    terms[v] = _Term(v, d.name, d.icd10_text, d.icd10, _Kind.CATALOGUE)
        return terms

    @cached_property
    def _term_re(self) -> re.Pattern[str]:
        # A lookahead finds the longest term at every position, overlapping ones included; contained
        # matches are dropped afterwards so "2型糖尿病" is not also read as "糖尿病".
        alternatives = sorted(self._terms, key=len, reverse=True)
        return re.compile("(?=(" + "|".join(re.escape(t) for t in alternatives) + "))")

    @cached_property
    def _fuzzy_terms(self) -> list[_Term]:
        """Catalogue wordings long enough to be matched with a misread glyph."""
        return [
            t
            for t in self._terms.values()
            if t.kind is _Kind.CATALOGUE and len(t.text) >= _FUZZY_MIN_LEN and not any(_is_latin(c) for c in t.text)
        ]

    def mentions(self, text: str) -> list[Mention]:
        """Every disease named in ``text`` as written, each with how it is asserted."""
        out: list[Mention] = []
        for i, clause in enumerate(_clauses(text)):
            out.extend(self._exact_mentions(clause, i))
        return out

    def _exact_mentions(self, clause: str, index: int = 0) -> list[Mention]:
        found: list[tuple[int, int, _Term]] = []
        for m in self._term_re.finditer(clause):
            start, end = m.start(1), m.end(1)
            term = self._terms[m.group(1)]
            # Latin abbreviations only as whole words: COPD, not the middle of another word.
            if _is_latin(term.text[0]) and start > 0 and _is_latin(clause[start - 1]):
                continue
            if _is_latin(term.text[-1]) and end < len(clause) and _is_latin(clause[end]):
                continue
            found.append((start, end, term))
        for m in _ICD_CODE_RE.finditer(clause):
            cat = m.group(1)
            owner = self.disease_for_code(cat)
            known = cat in self.icd10_names or owner is not None
            # A code of no category we know (a Z code outside the catalogue, a misread) names nothing.
            symptom = cat.startswith("R") or not known
            code = _Term(m.group(0), owner.name if owner else None, m.group(0), ((cat, cat),), _Kind.CODE, symptom)
            found.append((m.start(), m.end(), code))
        kept = [
            f
            for f in found
            if not any(o is not f and o[0] <= f[0] and f[1] <= o[1] and o[1] - o[0] > f[1] - f[0] for o in found)
        ]
        return [_mention(t, clause, index, s, e) for s, e, t in kept]

    def fuzzy_mentions(self, text: str, *, within: Disease | None = None) -> list[Mention]:
        """Long catalogue wordings read with one misread glyph (two in 10+ characters), not as written.

        With ``within`` only the wordings of that 病种 (and of the 病种 its ranges hold) are tried.
        One mention per 病种 and clause, the closest."""
        candidates = self._fuzzy_terms
        if within is not None:
            candidates = [t for t in candidates if t.disease == within.name or _inside(t.ranges, within.icd10)]
        out: list[Mention] = []
        for i, clause in enumerate(_clauses(text)):
            chars = set(clause)
            best: dict[str, tuple[float, int, int, _Term]] = {}  # disease -> (similarity, start, end, term)
            for term in candidates:
                n = len(term.text)
                k = 1 if n < _FUZZY_TWO_EDITS_LEN else 2
                if len(clause) < n - k or len(set(term.text) - chars) > k:
                    continue
                hit = _closest_window(term.text, clause, k)
                if hit is None or hit[0] == 0:
                    continue
                key = term.disease or term.text
                similarity = 1 - hit[0] / n
                if key not in best or similarity > best[key][0]:
                    best[key] = (similarity, hit[1], hit[2], term)
            for similarity, start, end, term in best.values():
                out.append(_mention(term, clause, i, start, end, similarity=similarity))
        return out


def _mention(term: _Term, clause: str, index: int, start: int, end: int, *, similarity: float = 1.0) -> Mention:
    return Mention(
        term.text,
        term.disease,
        term.icd10,
        term.symptom,
        _assertion(clause, start, end),
        ranges=term.ranges,
        kind=term.kind.value,
        similarity=similarity,
        read=clause[start:end],
        span=(index, start, end),
    )


def _width(ranges: Ranges) -> int:
    def num(cat: str) -> int:
        return (ord(cat[0]) - ord("A")) * 100 + int(cat[1:])

    return sum(num(hi) - num(lo) + 1 for lo, hi in ranges)


def _closest_window(term: str, clause: str, k: int) -> tuple[int, int, int] | None:
    """(edit distance, start, end) of the stretch of ``clause`` closest to ``term``, within ``k`` edits."""
    n = len(term)
    best: tuple[int, int, int] | None = None
    for size in sorted(range(max(1, n - k), n + k + 1), key=lambda s: abs(s - n)):
        for i in range(len(clause) - size + 1):
            d = Levenshtein.distance(term, clause[i : i + size], score_cutoff=k)
            if d <= k and (best is None or d < best[0]):
                best = (d, i, i + size)
    return best


class Assertion(Enum):
    PRESENT = "present"
    HISTORY = "history"
    SUSPECTED = "suspected"
    NEGATED = "negated"


@dataclass(frozen=True)
class Mention:
    term: str
    disease: str | None
    icd10: str | None
    symptom: bool
    assertion: Assertion = field(default=Assertion.PRESENT)
    ranges: Ranges = ()
    kind: str = _Kind.CATALOGUE.value
    similarity: float = 1.0  # below 1 for an OCR-tolerant match
    read: str | None = None  # the text as read
    span: tuple[int, int, int] = (0, 0, 0)  # clause number, start, end (in the normalised clause)

    def overlaps(self, other: Mention) -> bool:
        return self.span[0] == other.span[0] and self.span[1] < other.span[2] and other.span[1] < self.span[2]


# Item numbers of a diagnosis list: "1.高血压 2.糖尿病", "(1)…", "2、…" (after NFKC). Only at the
# start or after a space/separator, so "2.2型糖尿病" splits at the first "2." only.
_NUMBERING_RE = re.compile(r"(?:^|(?<=[\s;,。、:]))\(?\d{1,2}\s*[.、)](?!\d)")
_CLAUSE_SPLIT_RE = re.compile(r"[;；。,，\n]+")
_ICD_CODE_RE = re.compile(r"(?<![A-Z])([A-TV-Z]\d{2})(?:\.[0-9X]{1,4})?(?![0-9])")

# Negation anywhere earlier in the clause: "否认高血压、糖尿病史"; a family history is somebody else's.
_NEGATION_BEFORE = ("否认", "排除", "除外", "未见", "未发现", "未诊断", "不考虑", "不支持", "没有", "家族史")
# Negation only right before the term ("无糖尿病"); elsewhere 无/非 are ordinary words.
_NEGATION_IMMEDIATE = re.compile(r"(?:无|非|未)(?:明显|明确)?$")
_SUSPECT_BEFORE = re.compile(r"(?:疑似|可疑|疑诊|待排除?)$")
_SUSPECT_AFTER = re.compile(r"^(?:[?？]|待排|待除外|待查|可能|不除外|待诊|可能性大|可能性小)")
_NEGATED_AFTER = re.compile(r"^(?:已排除|已除外|除外|可能性小|家族史|家族遗传史)")
_HISTORY_AFTER = re.compile(r"^(?:病?史|术后|治愈|痊愈|病史)")


def _clauses(text: str) -> list[str]:
    t = unicodedata.normalize("NFKC", text or "").upper()
    pieces = []
    for item in _NUMBERING_RE.split(t):
        pieces.extend(_CLAUSE_SPLIT_RE.split(item))
    return [c for c in (re.sub(r"\s+", "", p) for p in pieces) if c]


def _assertion(clause: str, start: int, end: int) -> Assertion:
    before, after = clause[:start], clause[end:]
    if any(cue in before for cue in _NEGATION_BEFORE) or _NEGATION_IMMEDIATE.search(before):
        return Assertion.NEGATED
    if _NEGATED_AFTER.match(after):
        return Assertion.NEGATED
    if _SUSPECT_BEFORE.search(before) or _SUSPECT_AFTER.match(after):
        return Assertion.SUSPECTED
    if _HISTORY_AFTER.match(after) or before.endswith("既往"):
        return Assertion.HISTORY
    return Assertion.PRESENT


# Confidence of each kind of evidence, before the reading's own score scales it.
_PASS_EXACT = 0.97
_PASS_HISTORY = 0.88  # "糖尿病史": the condition is there, the document is about something else
_PASS_CODE_ONLY = 0.9  # a printed code alone: one misread digit moves it to another category
_PASS_FUZZY = 0.75
_FAIL_CLEAR = 0.95
_FAIL_SHORT = 0.85  # a 2-character wording (痛风, 骨折, 肺炎): clear, but easily part of something else
_FAIL_NEAR_CLAIM = 0.6  # the other wording is one glyph away from a wording of the claim
_FAIL_FUZZY = 0.6
_FAIL_WITH_UNPLACED = 0.7  # besides the other condition, something unplaced that reads like a condition
_UNKNOWN = 0.8
# The diagnosis field's OCR score at or above which the reading does not lower a confidence.
_READ_WELL = 0.9


def _reading_factor(read_confidence: float | None) -> float:
    if read_confidence is None:
        return 1.0
    return max(0.0, min(1.0, read_confidence / _READ_WELL))


def check_diagnosis(
    diagnosis_text: str | None,
    disease: str | None,
    catalogue: DiseaseCatalogue,
    *,
    read_confidence: float | None = None,
) -> DiagnosisCheck:
    """Whether ``diagnosis_text`` supports the claimed 病种 ``disease``.

    ``read_confidence`` is the OCR score of the diagnosis field (``FieldValue.confidence``); a weak
    reading lowers the confidence of a pass or a fail."""
    factor = _reading_factor(read_confidence)
    if not disease or not disease.strip():
        return DiagnosisCheck(outcome=Outcome.UNKNOWN, reason="申请未填写病种")
    claim = catalogue.find(disease)
    if claim is None:
        return DiagnosisCheck(
            outcome=Outcome.UNKNOWN, disease=disease, reason=f"病种“{disease}”不在门诊慢特病病种目录中"
        )
    if not diagnosis_text or not diagnosis_text.strip():
        return DiagnosisCheck(outcome=Outcome.UNKNOWN, disease=claim.name, reason="未识别到诊断内容")

    groups = catalogue.groups_of(claim)
    related = {_norm(t) for d in (claim, *groups) for t in d.related}

    def supports(m: Mention) -> bool:
        return m.disease == claim.name or _inside(m.ranges, claim.icd10)

    def is_related(m: Mention) -> bool:
        # A broader wording (白血病 for 慢性白血病), a member of the same group (双相情感障碍 for
        # 精神分裂症 under 重性精神病), or a neighbouring condition the catalogue lists.
        return m.term in related or _overlap(m.ranges, claim.icd10) or any(_inside(m.ranges, g.icd10) for g in groups)

    exact = catalogue.mentions(diagnosis_text)
    asserted = [m for m in exact if supports(m) and m.assertion in (Assertion.PRESENT, Assertion.HISTORY)]
    if asserted:
        # Prefer a wording as present over history, and a wording over a bare code.
        best = min(asserted, key=lambda m: (m.assertion is not Assertion.PRESENT, m.kind == _Kind.CODE.value))
        code = next((m for m in asserted if m.kind == _Kind.CODE.value), None)
        if best.kind == _Kind.CODE.value:
            base = _PASS_CODE_ONLY
        else:
            base = _PASS_EXACT if best.assertion is Assertion.PRESENT else _PASS_HISTORY
        return DiagnosisCheck(
            outcome=Outcome.PASS,
            confidence=round(base * factor, 3),
            disease=claim.name,
            matched_term=best.term,
            icd10=code.term if code else best.icd10,
        )

    # Misread glyphs: a long wording read with one wrong glyph replaces the shorter wordings found
    # inside it ("慢性阻塞性肺疾玻" is not a diagnosis of "阻塞"); where it is no longer than what was
    # read as written, what was written wins, and a close wording of the claim only weakens a fail.
    mentions = list(exact)
    near_claim: list[Mention] = []
    for f in sorted(catalogue.fuzzy_mentions(diagnosis_text), key=lambda m: (-m.similarity, -len(m.term))):
        covered = [m for m in mentions if m.overlaps(f)]
        if all(m in exact and len(m.read or "") < len(f.read or "") for m in covered):
            mentions = [m for m in mentions if m not in covered] + [f]
        elif supports(f):
            near_claim.append(f)

    fuzzy_support = [m for m in mentions if m.similarity < 1 and supports(m) and m.assertion is Assertion.PRESENT]
    if fuzzy_support:
        m = max(fuzzy_support, key=lambda m: m.similarity)
        return DiagnosisCheck(
            outcome=Outcome.PASS,
            confidence=round(_PASS_FUZZY * m.similarity * factor, 3),
            disease=claim.name,
            matched_term=m.term,
            icd10=m.icd10,
            reason=f"诊断“{m.read}”按“{m.term}”识别（疑似识别误差）",
        )

    others = [m for m in mentions if not supports(m) and not m.symptom and m.assertion is Assertion.PRESENT]
    clear = [m for m in others if not is_related(m)]
    suspected_claim = any(supports(m) and m.assertion is Assertion.SUSPECTED for m in mentions)
    if clear and len(clear) == len(others) and not suspected_claim:
        first = max(clear, key=_contradiction_strength)
        base = _contradiction_strength(first)
        named = "、".join(dict.fromkeys(m.term for m in clear))
        reason = f"诊断为“{named}”，与申请病种“{claim.name}”不符"
        if first.similarity < 1:
            reason = f"诊断“{first.read}”近似“{first.term}”，与申请病种“{claim.name}”不符，需人工核对"
        # One misread glyph can turn a wording of the claim into another condition (慢性肾功能衰竭 ->
        # 慢性心功能衰竭): when the claim is that close, the contradiction is for a reviewer.
        if near_claim:
            base = min(base, _FAIL_NEAR_CLAIM)
            reason += f"（与“{near_claim[0].term}”仅差一字，需人工核对）"
        # A part of the diagnosis that reads like a condition but could not be placed may be a
        # wording of the claim the catalogue lacks: then "nothing supports the claim" is not sure.
        unplaced = _unplaced(diagnosis_text, mentions)
        if unplaced:
            base = min(base, _FAIL_WITH_UNPLACED)
            reason += f"（另有未能识别的诊断“{unplaced[0]}”，需人工核对）"
        return DiagnosisCheck(
            outcome=Outcome.FAIL,
            confidence=round(base * factor, 3),
            disease=claim.name,
            matched_term=first.term,
            icd10=first.icd10,
            reason=reason,
        )
    if others:
        named = "、".join(dict.fromkeys(m.term for m in others))
        why = "申请病种仅为疑似" if suspected_claim else "相关疾病"
        return DiagnosisCheck(
            outcome=Outcome.UNKNOWN,
            confidence=round(_UNKNOWN * factor, 3),
            disease=claim.name,
            matched_term=others[0].term,
            icd10=others[0].icd10,
            reason=f"诊断为“{named}”（{why}），不能确认为“{claim.name}”，需人工核对",
        )
    return DiagnosisCheck(
        outcome=Outcome.UNKNOWN,
        confidence=round(_UNKNOWN * factor, 3),
        disease=claim.name,
        reason=f"诊断内容未能确认为“{claim.name}”，需人工核对",
    )


# What makes an unrecognised stretch of a diagnosis read like a condition, not a modifier (左侧, 社区获得性).
_CONDITION_CUES = ("待查", "升高", "增高", "降低", "异常", "不全", "减退", "亢进", "综合征", "障碍")
_CONDITION_CHARS = frozenset("病炎症癌瘤")


def _unplaced(text: str, mentions: list[Mention]) -> list[str]:
    """Stretches of ``text`` no mention covers that still read like a condition."""
    out: list[str] = []
    for i, clause in enumerate(_clauses(text)):
        covered = [False] * len(clause)
        for m in mentions:
            if m.span[0] == i:
                for j in range(m.span[1], m.span[2]):
                    covered[j] = True
        residue = "".join(ch if not c else " " for ch, c in zip(clause, covered, strict=True))
        out.extend(
            p
            for p in residue.split()
            if len(p) >= 2 and (_CONDITION_CHARS & set(p) or any(cue in p for cue in _CONDITION_CUES))
        )
    return out


def _contradiction_strength(m: Mention) -> float:
    """How clearly one mention names another condition."""
    if m.similarity < 1:
        return _FAIL_FUZZY
    if m.kind != _Kind.CODE.value and len(m.term) <= 2:
        return _FAIL_SHORT
    return _FAIL_CLEAR
