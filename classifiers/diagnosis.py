"""Does a document's diagnosis support the claimed 病种?

Three answers, because a vague diagnosis is not a problem but a contradicting one is:

- ``pass``: one of the diagnoses names the claim — a term, alias or ICD-10 category of the 病种
  ("1.高血压病3级 2.2型糖尿病" supports both 高血压病 and 糖尿病);
- ``fail``: it clearly names other diseases (terms of other 病种 or ICD-10 category names such as
  急性阑尾炎 → K35) and nothing supports the claim;
- ``unknown``: nothing recognisable (头晕待查, 复查, 体检, empty), or the claim is not in the catalogue.

Mentions are read in context: "否认糖尿病" is not a diagnosis of 糖尿病; "糖尿病史" or "阑尾炎术后" is
history — it does support a chronic claim but does not contradict another one; "冠心病?" / "待排"
is a suspicion and neither supports nor contradicts. Symptom categories (ICD-10 chapter R: 头晕,
咳嗽 …) never contradict, since a symptom is what an unclear diagnosis looks like.
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

from classifiers.types import DiagnosisCheck, Outcome

__all__ = ["DATA_DIR", "CatalogueError", "Disease", "DiseaseCatalogue", "check_diagnosis"]

DATA_DIR = Path(__file__).parent / "data"
DISEASES_PATH = DATA_DIR / "diseases.yaml"
ICD10_PATH = DATA_DIR / "icd10cn_categories.csv"


class CatalogueError(ValueError):
    """The disease catalogue or the ICD-10 table cannot be read."""


def _norm(text: str) -> str:
    """NFKC (full-width -> half-width, Ⅱ -> II), upper case, no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).upper()


_CODE_RE = re.compile(r"^([A-Z])(\d{2})")


def _category(code: str) -> str | None:
    """Category of an ICD-10 code ("E11.900", "A17+" -> "E11"); None if it is not one."""
    m = _CODE_RE.match(_norm(code))
    return m.group(1) + m.group(2) if m else None


@dataclass(frozen=True)
class Disease:
    """One 病种 of the catalogue."""

    name: str
    aliases: tuple[str, ...]
    icd10: tuple[tuple[str, str], ...]  # inclusive ranges of three-character categories
    terms: tuple[str, ...]

    def covers(self, code: str) -> bool:
        """Whether the ICD-10 category of ``code`` is one of this 病种's."""
        cat = _category(code)
        return cat is not None and any(lo <= cat <= hi for lo, hi in self.icd10)

    @property
    def icd10_text(self) -> str:
        return ",".join(lo if lo == hi else f"{lo}-{hi}" for lo, hi in self.icd10)


@dataclass(frozen=True)
class _Term:
    text: str  # normalised
    disease: str | None  # the catalogue 病种 it names, if any
    icd10: str | None  # its category (or the 病种's ranges) for the report
    symptom: bool = False  # ICD-10 chapter R: never contradicts a claim


# ICD-10 names carry qualifiers that a doctor never writes: "肺炎,病原体未特指", "其他沙门菌感染".
_ICD_PREFIXES = ("其他和", "其他的", "其他")
_UNSPECIFIED_RE = re.compile(r"(?:未特指|特指)(?:部位|病因|类型|原因)?的?")
# Everyday wordings of common non-chronic conditions that no ICD-10 category name contains
# ("右股骨颈骨折" is in S72 股骨骨折 but is not that string).
_GENERIC_TERMS: dict[str, str | None] = {"骨折": None, "上呼吸道感染": "J06", "感冒": "J00", "外伤": None}
# A part split off at 和/及/或 is kept only when it still names a disease, not an organ
# ("支气管和肺恶性肿瘤" must not teach "支气管").
_DISEASE_CHARS = frozenset("病炎症癌瘤折伤染石痛死塞竭疹疡瘘疝痔风热毒肿障碍乱缺陷畸裂梗衰硬痹痿瘫疸痢疟痨核喘")


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
    return out


class DiseaseCatalogue:
    """The 病种 an application may claim, and every disease wording the checker recognises."""

    def __init__(self, diseases: list[Disease], icd10_names: dict[str, str] | None = None) -> None:
        self.diseases = diseases
        self.icd10_names = icd10_names or {}
        self._by_name: dict[str, Disease] = {}
        for d in diseases:
            for n in (d.name, *d.aliases):
                self._by_name.setdefault(_norm(n), d)

    @classmethod
    def load(cls, path: str | Path | None = None, icd10_path: str | Path | None = None) -> DiseaseCatalogue:
        """Read ``diseases.yaml`` and the ICD-10 category table (both default to ``classifiers/data``)."""
        path = Path(path) if path else DISEASES_PATH
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise CatalogueError(f"{path}: cannot read the disease catalogue: {exc}") from exc
        diseases = []
        for i, item in enumerate((doc or {}).get("diseases") or []):
            try:
                ranges = []
                for spec in item.get("icd10") or []:
                    lo, _, hi = str(spec).partition("-")
                    lo_cat, hi_cat = _category(lo), _category(hi or lo)
                    if not lo_cat or not hi_cat:
                        raise ValueError(f"bad ICD-10 range {spec!r}")
                    ranges.append((lo_cat, hi_cat))
                diseases.append(
                    Disease(
                        name=str(item["name"]),
                        aliases=tuple(str(a) for a in item.get("aliases") or []),
                        icd10=tuple(ranges),
                        terms=tuple(str(t) for t in item.get("terms") or []),
                    )
                )
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise CatalogueError(f"{path}: entry {i + 1}: {exc}") from exc
        icd_path = Path(icd10_path) if icd10_path else ICD10_PATH
        icd10_names: dict[str, str] = {}
        if icd_path.exists():
            with icd_path.open(encoding="utf-8-sig", newline="") as fh:
                for row in csv.DictReader(fh, delimiter="\t"):
                    cat = _category(row.get("code") or "")
                    if cat and row.get("disease"):
                        icd10_names.setdefault(cat, row["disease"].strip())
        return cls(diseases, icd10_names)

    def find(self, disease_name: str | None) -> Disease | None:
        """The 病种 called ``disease_name`` (its name or an alias), or ``None``."""
        return self._by_name.get(_norm(disease_name or ""))

    def disease_for_code(self, code: str) -> Disease | None:
        return next((d for d in self.diseases if d.covers(code)), None)

    @cached_property
    def _terms(self) -> dict[str, _Term]:
        terms: dict[str, _Term] = {t: _Term(t, None, code) for t, code in _GENERIC_TERMS.items()}
        # ICD-10 names first so the catalogue's own wordings (added below) win on a collision.
        for cat, name in self.icd10_names.items():
            owner = self.disease_for_code(cat)
            for v in _icd_name_variants(name):
                terms[v] = _Term(v, owner.name if owner else None, cat, symptom=cat.startswith("R"))
        for d in self.diseases:
            for t in (d.name, *d.aliases, *d.terms):
                v = _norm(t)
                if v:
                    terms[v] = _Term(v, d.name, d.icd10_text)
        return terms

    @cached_property
    def _term_re(self) -> re.Pattern[str]:
        # A lookahead finds the longest term at every position, overlapping ones included; contained
        # matches are dropped afterwards so "2型糖尿病" is not also read as "糖尿病".
        alternatives = sorted(self._terms, key=len, reverse=True)
        return re.compile("(?=(" + "|".join(re.escape(t) for t in alternatives) + "))")

    def mentions(self, text: str) -> list[Mention]:
        """Every disease named in ``text``, each with how it is asserted."""
        out: list[Mention] = []
        for clause in _clauses(text):
            found: list[tuple[int, int, _Term]] = []
            for m in self._term_re.finditer(clause):
                term = self._terms[m.group(1)]
                found.append((m.start(1), m.end(1), term))
            for m in _ICD_CODE_RE.finditer(clause):
                cat = m.group(1)
                owner = self.disease_for_code(cat)
                found.append((m.start(), m.end(), _Term(cat, owner.name if owner else None, cat, cat.startswith("R"))))
            kept = [
                f
                for f in found
                if not any(o is not f and o[0] <= f[0] and f[1] <= o[1] and o[1] - o[0] > f[1] - f[0] for o in found)
            ]
            for start, end, term in kept:
                out.append(Mention(term.text, term.disease, term.icd10, term.symptom, _assertion(clause, start, end)))
        return out


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


# Item numbers of a diagnosis list: "1.高血压 2.糖尿病", "(1)…", "2、…" (after NFKC). Only at the
# start or after a space/separator, so "2.2型糖尿病" splits at the first "2." only.
_NUMBERING_RE = re.compile(r"(?:^|(?<=[\s;,。、:]))\(?\d{1,2}\s*[.、)](?!\d)")
_CLAUSE_SPLIT_RE = re.compile(r"[;；。,，\n]+")
_ICD_CODE_RE = re.compile(r"(?<![A-Z])([A-TV-Z]\d{2})(?:\.[0-9X]{1,4})?(?![0-9])")

# Negation anywhere earlier in the clause: "否认高血压、糖尿病史".
_NEGATION_BEFORE = ("否认", "排除", "除外", "未见", "未发现", "未诊断", "不考虑", "不支持", "没有")
# Negation only right before the term ("无糖尿病"); elsewhere 无/非 are ordinary words.
_NEGATION_IMMEDIATE = re.compile(r"(?:无|非|未)(?:明显|明确)?$")
_SUSPECT_BEFORE = re.compile(r"(?:疑似|可疑|疑诊|待排除?)$")
_SUSPECT_AFTER = re.compile(r"^(?:[?？]|待排|待除外|待查|可能|不除外|待诊|可能性大|可能性小)")
_NEGATED_AFTER = re.compile(r"^(?:已排除|已除外|除外|可能性小)")
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


def check_diagnosis(diagnosis_text: str | None, disease: str | None, catalogue: DiseaseCatalogue) -> DiagnosisCheck:
    """Whether ``diagnosis_text`` supports the claimed 病种 ``disease``."""
    if not disease or not disease.strip():
        return DiagnosisCheck(outcome=Outcome.UNKNOWN, reason="申请未填写病种")
    claim = catalogue.find(disease)
    if claim is None:
        return DiagnosisCheck(
            outcome=Outcome.UNKNOWN, disease=disease, reason=f"病种“{disease}”不在门诊慢特病病种目录中"
        )
    if not diagnosis_text or not diagnosis_text.strip():
        return DiagnosisCheck(outcome=Outcome.UNKNOWN, disease=claim.name, reason="未识别到诊断内容")

    mentions = catalogue.mentions(diagnosis_text)

    def supports(m: Mention) -> bool:
        return m.disease == claim.name or (m.icd10 is not None and claim.covers(m.icd10))

    for m in mentions:
        if supports(m) and m.assertion in (Assertion.PRESENT, Assertion.HISTORY):
            return DiagnosisCheck(outcome=Outcome.PASS, disease=claim.name, matched_term=m.term, icd10=m.icd10)
    others = [m for m in mentions if not supports(m) and not m.symptom and m.assertion is Assertion.PRESENT]
    if others:
        first = others[0]
        named = "、".join(dict.fromkeys(m.term for m in others))
        return DiagnosisCheck(
            outcome=Outcome.FAIL,
            disease=claim.name,
            matched_term=first.term,
            icd10=first.icd10,
            reason=f"诊断为“{named}”，与申请病种“{claim.name}”不符",
        )
    return DiagnosisCheck(
        outcome=Outcome.UNKNOWN, disease=claim.name, reason=f"诊断内容未能确认为“{claim.name}”，需人工核对"
    )
