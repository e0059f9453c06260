"""Which registered hospital issued a document, its grade (医院等级), and whether that grade is high enough.

The issuer's name comes from a page header (often with the document title glued on:
``绥化市第一医院疾病诊断证明书``) or from the seal text, both read by OCR. Resolution therefore
tolerates aliases, branch campuses, surrounding text and one or two misread characters — but a
wrong resolution is worse than none (it reports another hospital's grade), so the characters that
tell two hospitals apart count heavily:

- ordinals and digits (第一/第二, 一院/三院) may never be part of an OCR correction;
- institution-type words (人民/中医/妇幼/中心 …) must be the same on both sides;
- the place name in front (绥化市, 六盘水市) may take at most one correction, and only when it is
  long enough that the rest still identifies it.

Anything that does not pass those gates resolves to ``None``: the check then reports ``unknown``
and a reviewer looks, instead of the applicant being judged on another hospital's grade.

The check's ``confidence``: a grade outcome is as sure as the match behind it (an exact name or
alias ≈0.95, an OCR correction less). "Not in the registry" is sure only when a full institution
name (…医院, …卫生院) was read clearly from the page and nothing in the registry comes close, or when
the seal's ring text spells the same full name (two readings of two prints agree); a name read
poorly, one without an institution suffix, one only on the seal, one a character or two away from a
registered hospital and not borne out by the seal, or no name at all, is a question for a reviewer,
not a finding.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from classifiers.types import HospitalCheck, Outcome

__all__ = [
    "HospitalMatch",
    "HospitalRegistry",
    "RegistryError",
    "check_hospital",
    "grade_level",
    "grade_rank",
    "meets_min_grade",
    "normalize_name",
]

EXPECTED_HEADER = ("name", "aliases", "grade", "region")

# --- grades -----------------------------------------------------------------------------------

_LEVEL_DIGITS = {"一": 1, "二": 2, "三": 3, "1": 1, "2": 2, "3": 3}
# 等次 within a level. 特等 is rare but exists in the 1989 scheme; 合格 is what some provinces
# write for 一级 hospitals. Higher is better.
_SUBGRADES = {"特": 4, "甲": 3, "乙": 2, "丙": 1, "合格": 0}
_UNRATED = ("未定级", "未评级", "未评等级", "无等级", "未定等", "未分级")
_GRADE_RE = re.compile(r"^([一二三123])级?(特等|甲等|乙等|丙等|特|甲|乙|丙|合格)?(?:医院)?$")


def grade_rank(grade: str) -> tuple[int, int | None] | None:
    """(level, 等次) of a grade as written: 三级甲等 -> (3, 3), 二级 -> (2, None), 未定级 -> (0, None).

    ``None`` for text that is not a grade.
    """
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", grade or ""))
    if not text:
        return None
    if text in _UNRATED:
        return (0, None)
    m = _GRADE_RE.match(text)
    if not m:
        return None
    level = _LEVEL_DIGITS[m.group(1)]
    sub = m.group(2)
    return (level, _SUBGRADES[sub.removesuffix("等")] if sub else None)


def grade_level(grade: str) -> int | None:
    """三级甲等 -> 3, 二级乙等 -> 2, 一级 -> 1, 未定级 -> 0, text that is not a grade -> None."""
    rank = grade_rank(grade)
    return rank[0] if rank else None


def meets_min_grade(grade: str, min_grade: str) -> bool | None:
    """Whether ``grade`` is at least ``min_grade``; ``None`` when either cannot be read.

    A minimum without 等次 ("二级") accepts every 等次 of that level and any higher level. A minimum
    with 等次 ("三级甲等") also needs the 等次 where the level is equal; a grade of that level that
    does not state its 等次 cannot be judged (``None``).
    """
    have, need = grade_rank(grade), grade_rank(min_grade)
    if have is None or need is None:
        return None
    if have[0] != need[0]:
        return have[0] > need[0]
    if need[1] is None:
        return True
    if have[1] is None:
        return None
    return have[1] >= need[1]


# --- name normalisation ------------------------------------------------------------------------

_DROP_RE = re.compile(r"[\s\W_]+", re.UNICODE)  # whitespace and punctuation, incl. ★ ○ ·


def normalize_name(text: str) -> str:
    """NFKC (full-width -> half-width), upper case, no whitespace or punctuation."""
    return _DROP_RE.sub("", unicodedata.normalize("NFKC", text or "")).upper()


# A label in front of the name ("医疗机构名称：", "送检单位:"). Only cut at a colon so a name that
# merely contains 医院 is never truncated.
_LABEL_RE = re.compile(r"^.{0,10}?(?:医院|医疗机构|机构|单位|医疗单位|送检单位|报告单位)(?:名称)?\s*[:：]\s*")

# Words that end an institution's name; the name is cut right after one of them when text follows.
_INSTITUTION_END = re.compile(
    r"(?:医院|卫生院|卫生服务中心|卫生服务站|医疗中心|医学中心|保健院|门诊部|诊所|"
    r"[一二三四五六七八九十]院|附院|临床医学院)"
)
# Campus suffix after an institution's name: 北院区, 群力院区, 光谷院区, 南岗分院, 东院, 本部.
_BRANCH_RE = re.compile(
    r"^(?P<base>.+?(?:医院|卫生院|中心|[一二三四五六七八九十]院|附院|医学院))"
    r"(?:[\u4e00-\u9fffA-Z0-9]{0,5}?(?:院区|分院|院部|分部|本部|总院)|[东西南北中]院)$"
)
# Document titles and seal wording glued to the name in a header or seal.
_TRAILER_RE = re.compile(
    r"(?:(?:疾病)?诊断证明(?:书)?|诊断书|(?:检验|化验|检查|影像|病理|超声|放射|医学影像|彩超|心电图)?"
    r"(?:诊断)?报告(?:单|书)?|出院(?:小结|记录)|(?:门诊|住院)?病历|(?:住院)?病案首页|"
    r"(?:诊断|检验|业务|医疗)?专用章|公章|印章)+$"
)

# Institution-type words: two hospitals in one city differ only by them (人民医院 / 中医医院),
# so they must be equal on both sides of a fuzzy match.
_TYPE_WORDS = (
    "人民",
    "中医",
    "中西医",
    "妇幼",
    "妇女",
    "儿童",
    "肿瘤",
    "口腔",
    "精神",
    "传染",
    "结核",
    "胸科",
    "骨科",
    "眼科",
    "康复",
    "民族",
    "中心",
    "总医院",
    "卫生院",
    "社区",
    "附属",
    "大学",
    "职工",
    "铁路",
    "油田",
    "矿",
    "军",
    "红十字",
    "第",
)
# Characters that tell numbered hospitals apart; never allowed in an OCR correction.
_ORDINAL_CHARS = frozenset("一二三四五六七八九十百零〇0123456789第")
# Leading place name: chain of administrative divisions (绥化市北林区, 神农架林区, 六枝特区).
_DIVISION_RE = re.compile(r"[\u4e00-\u9fff]{2,7}?(自治区|自治州|自治县|特区|林区|地区|新区|省|市|县|区|州|旗|盟|镇|乡)")
# Below this many characters a name is too short for a fuzzy match to mean anything (省人医).
_MIN_FUZZY_LEN = 5
_PREFILTER_SCORE = 70.0


def _type_words(name: str) -> frozenset[str]:
    return frozenset(w for w in _TYPE_WORDS if w in name)


def _place_segments(name: str) -> tuple[tuple[int, int], ...]:
    """(start, end of the proper name) of each leading division: 绥化市北林区 -> (0, 2), (3, 5)."""
    segments = []
    pos = 0
    while m := _DIVISION_RE.match(name, pos):
        segments.append((m.start(), m.start(1)))
        pos = m.end()
    return tuple(segments)


def _strip_branch(name: str) -> str:
    m = _BRANCH_RE.match(name)
    return m.group("base") if m else name


# Glyphs OCR returns for the same character in names (巿 U+5E02 for 市).
_NAME_FOLDS = str.maketrans({"巿": "市"})
# Leading non-Chinese noise on a header line: form numbers, barcodes, "No.123".
_LEADING_NOISE_RE = re.compile(r"^[A-Z0-9]+(?=[\u4e00-\u9fff])")


def _query_variants(text: str) -> list[tuple[str, bool]]:
    """Normalised forms of an OCR'd name worth looking up, most literal first.

    The flag says the variant was made by cutting off a campus suffix, which is when the weaker
    names derived from campus aliases ("协和医院东单院区" -> "协和医院") may be used.
    """
    raw = unicodedata.normalize("NFKC", text or "").translate(_NAME_FOLDS)
    raw = _LABEL_RE.sub("", raw.strip())
    base = _LEADING_NOISE_RE.sub("", normalize_name(raw))
    if not base:
        return []
    out: list[tuple[str, bool]] = []

    def add(v: str, from_branch: bool = False) -> None:
        if v and all(v != seen for seen, _ in out):
            out.append((v, from_branch))

    add(base)
    trimmed = _TRAILER_RE.sub("", base)
    add(trimmed)
    # Cut after each institution-ending word, longest prefix first: "…医院检验科", "…医院北院区".
    ends = [m.end() for m in _INSTITUTION_END.finditer(trimmed)]
    for end in sorted(ends, reverse=True):
        add(trimmed[:end])
    for v, _ in list(out):
        stripped = _strip_branch(v)
        if stripped != v:
            add(stripped, from_branch=True)
    return out


# --- registry ----------------------------------------------------------------------------------


class RegistryError(ValueError):
    """The hospital registry CSV cannot be used; ``line`` is the 1-based line in the file."""

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        where = f"{self.path or 'registry'}:{line}" if line is not None else (self.path or "registry")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class HospitalMatch:
    canonical_name: str
    grade: str
    region: str
    aliases: tuple[str, ...]
    score: float  # 100 for an exact (normalised) name, lower for a corrected one
    matched: str  # the registry name or alias it matched


@dataclass(frozen=True)
class _Entry:
    canonical_name: str
    grade: str
    region: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class _Key:
    text: str  # normalised name
    entry: int  # index into entries
    place: tuple[tuple[int, int], ...]  # proper-name spans of the leading place name
    types: frozenset[str]


class HospitalRegistry:
    """The 定点医疗机构 list of a deployment, indexed for exact and OCR-tolerant lookup."""

    def __init__(self, rows: list[tuple[str, list[str], str, str]]) -> None:
        self._entries: list[_Entry] = []
        self._by_name: dict[str, int] = {}
        exact: dict[str, set[int]] = defaultdict(set)
        derived: dict[str, set[int]] = defaultdict(set)
        for name, aliases, grade, region in rows:
            idx = len(self._entries)
            self._entries.append(_Entry(name, grade, region, tuple(aliases)))
            self._by_name[normalize_name(name)] = idx
            for source in (name, *aliases):
                key = normalize_name(source)
                if not key:
                    continue
                exact[key].add(idx)
                stripped = _strip_branch(key)
                if stripped != key:
                    # "同济医院光谷院区" also teaches us "同济医院"; weaker than a listed name.
                    derived[stripped].add(idx)
        # A key shared by two hospitals resolves to neither. Derived keys only serve queries that
        # had a campus suffix themselves: a bare "协和医院" may well be another city's 协和.
        self._exact: dict[str, int] = {}
        self._derived: dict[str, int] = {}
        self._ambiguous: set[str] = set()
        for table, keys in ((self._exact, exact), (self._derived, derived)):
            for key, idxs in keys.items():
                if key in exact and table is self._derived:
                    continue
                if len(idxs) == 1:
                    table[key] = next(iter(idxs))
                else:
                    self._ambiguous.add(key)
        self._keys: list[_Key] = [
            _Key(key, idx, _place_segments(key), _type_words(key))
            for key, idx in self._exact.items()
            if len(key) >= _MIN_FUZZY_LEN
        ]
        # Length buckets are the prefilter: an accepted correction changes at most two characters,
        # so only keys within two of the query's length can match.
        self._by_len: dict[int, list[int]] = defaultdict(list)
        for i, k in enumerate(self._keys):
            self._by_len[len(k.text)].append(i)

    def __len__(self) -> int:
        return len(self._entries)

    @classmethod
    def from_csv(cls, path: str | Path) -> HospitalRegistry:
        """Load ``name,aliases,grade,region`` (aliases ``|``-separated, UTF-8 with or without BOM)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise RegistryError(f"not UTF-8 text ({exc.reason})", path=path) from exc
        reader = csv.reader(text.splitlines())
        rows: list[tuple[str, list[str], str, str]] = []
        seen: dict[str, int] = {}
        header_seen = False
        for record in reader:
            line = reader.line_num
            if not record or all(not c.strip() for c in record):
                continue
            cells = [c.strip() for c in record]
            if not header_seen:
                if tuple(c.lower() for c in cells) != EXPECTED_HEADER:
                    raise RegistryError(
                        f"header must be {','.join(EXPECTED_HEADER)!r}, got {','.join(cells)!r}", path=path, line=line
                    )
                header_seen = True
                continue
            if len(cells) != len(EXPECTED_HEADER):
                raise RegistryError(f"expected 4 columns, got {len(cells)}: {','.join(cells)!r}", path=path, line=line)
            name, alias_cell, grade, region = cells
            if not normalize_name(name):
                raise RegistryError("empty hospital name", path=path, line=line)
            if grade_rank(grade) is None:
                raise RegistryError(
                    f"grade {grade!r} of {name} is not a grade (e.g. 三级甲等, 二级乙等, 一级, 未定级)",
                    path=path,
                    line=line,
                )
            key = normalize_name(name)
            if key in seen:
                raise RegistryError(f"{name} is listed twice (first on line {seen[key]})", path=path, line=line)
            seen[key] = line
            aliases = [a.strip() for a in alias_cell.split("|") if a.strip()]
            rows.append((name, aliases, grade, region))
        if not header_seen:
            raise RegistryError("empty file: no header", path=path)
        return cls(rows)

    def names_for(self, canonical_name: str) -> list[str]:
        """The canonical name and its aliases (what a seal of that hospital may say)."""
        idx = self._by_name.get(normalize_name(canonical_name))
        if idx is None:
            return []
        entry = self._entries[idx]
        return [entry.canonical_name, *entry.aliases]

    def resolve(self, text: str) -> HospitalMatch | None:
        """The registered hospital ``text`` names, or ``None`` when none is named without doubt."""
        variants = _query_variants(text)
        for v, from_branch in variants:
            if v in self._ambiguous:
                return None
            idx = self._exact.get(v)
            if idx is None and from_branch:
                idx = self._derived.get(v)
            if idx is not None:
                return self._match(idx, 100.0, v)
        best: tuple[float, int, str] | None = None  # (cost, entry, key)
        tied = False
        for v, _ in variants:
            for cost, idx, key in self._fuzzy(v):
                if best is None or cost < best[0]:
                    best, tied = (cost, idx, key), False
                elif cost == best[0] and idx != best[1]:
                    tied = True
            if best is not None:
                break  # the most literal variant that finds anything decides
        if best is None or tied:
            return None
        cost, idx, key = best
        return self._match(idx, round(100.0 * (1 - cost / max(len(key), 1)), 1), key)

    def closest(self, text: str) -> tuple[str, float] | None:
        """The registry name most like ``text`` (any of its query forms) and its similarity (0..100),
        whether or not it is close enough to resolve; ``None`` for an empty registry or text."""
        best: tuple[str, float] | None = None
        keys = list(self._exact)
        if not keys:
            return None
        for v, _ in _query_variants(text):
            hit = process.extractOne(v, keys, scorer=fuzz.ratio)
            if hit is not None and (best is None or hit[1] > best[1]):
                best = (self._entries[self._exact[hit[0]]].canonical_name, float(hit[1]))
        return best

    def _match(self, idx: int, score: float, key: str) -> HospitalMatch:
        e = self._entries[idx]
        names = (e.canonical_name, *e.aliases)
        source = next((s for s in names if normalize_name(s) == key), None)
        if source is None:  # a derived key: name the campus alias it came from
            source = next((s for s in names if _strip_branch(normalize_name(s)) == key), e.canonical_name)
        return HospitalMatch(e.canonical_name, e.grade, e.region, e.aliases, score, source)

    def _fuzzy(self, query: str) -> list[tuple[float, int, str]]:
        """(weighted edit cost, entry, key) of every key ``query`` is an acceptable misreading of."""
        if len(query) < _MIN_FUZZY_LEN:
            return []
        pool = [i for n in range(len(query) - 2, len(query) + 3) for i in self._by_len.get(n, ())]
        if not pool:
            return []
        choices = {i: self._keys[i].text for i in pool}
        hits = process.extract(query, choices, scorer=fuzz.ratio, limit=10, score_cutoff=_PREFILTER_SCORE)
        q_types = _type_words(query)
        out = []
        for _text, _score, i in hits:
            key = self._keys[i]
            cost = _correction_cost(query, key, q_types)
            if cost is not None:
                out.append((cost, key.entry, key.text))
        return out


def _correction_cost(query: str, key: _Key, q_types: frozenset[str]) -> float | None:
    """Weighted cost of reading ``key`` as ``query`` by OCR error, or ``None`` if not plausible."""
    if q_types != key.types:
        return None
    ops = Levenshtein.editops(key.text, query)
    budget = 1 if len(key.text) <= 7 else 2
    if len(ops) > budget:
        return None
    place_edits = 0
    for op in ops:
        touched = []
        if op.tag in ("replace", "delete"):
            touched.append(key.text[op.src_pos])
        if op.tag in ("replace", "insert"):
            touched.append(query[op.dest_pos])
        if any(c in _ORDINAL_CHARS for c in touched):
            return None
        for start, end in key.place:
            if start <= op.src_pos < end or (op.tag == "insert" and start < op.src_pos < end):
                # A two-character place name (绥化, 安达) with one character changed is another
                # place; a longer one (六盘水, 神农架) with one changed is still itself.
                if end - start < 3:
                    return None
                place_edits += 1
    if place_edits > 1:
        return None
    return float(len(ops) + place_edits)  # a place-name correction costs double


# --- the check ---------------------------------------------------------------------------------

# A grade outcome resting on an exact name or alias; an OCR-corrected match scales down from it.
_EXACT_MATCH_CONFIDENCE = 0.95
# Below this similarity (fuzz.ratio, 0..100) to every registered name, nothing in the registry is
# "close"; above _CLOSE_NAME the name is probably a registered hospital misread past correction.
_FAR_NAME = 70.0
_CLOSE_NAME = 90.0
# The OCR score of a name read clearly.
_CLEAR_READ = 0.95
_POOR_READ = 0.6
# When nothing measured how well the name was read (e.g. a caller with text only).
_UNMEASURED_READ = 0.85
# "Not in the registry" when the page's name and its seal's ring text spell the same full name.
_CORROBORATED_NOT_FOUND = 0.9
_NAME_END_RE = re.compile(_INSTITUTION_END.pattern + "$")


def _match_confidence(match: HospitalMatch, read_confidence: float | None, from_seal: bool) -> float:
    if match.score >= 100.0:
        # A misreading rarely spells another registered name exactly: the read hardly matters.
        return _EXACT_MATCH_CONFIDENCE
    # An accepted correction scores about 70-90; the fewer characters changed, the surer.
    confidence = 0.55 + 0.35 * min(max((match.score - 70.0) / 25.0, 0.0), 1.0)
    read = _UNMEASURED_READ if read_confidence is None or from_seal else read_confidence
    confidence *= 0.7 + 0.3 * min(max(read, 0.0), 1.0)
    return round(min(confidence, 0.9), 3)


def _seal_spells_the_difference(name: str, seal_text: str, closest: tuple[str, float] | None) -> bool:
    """Whether ``seal_text`` holds the characters of the printed ``name`` that differ from the nearest
    registered name (``closest``), with one character of the name beside them: 神农架林区红坪镇卫生院
    against the registered 神农架林区松柏镇卫生院, when the seal's arc, cut short, reads
    神农架林区红坪."""
    if closest is None:
        return False
    seal = normalize_name(seal_text)
    ops = Levenshtein.editops(normalize_name(closest[0]), name)
    changed = [op.dest_pos for op in ops if op.tag != "delete"] + [
        p for op in ops if op.tag == "delete" for p in (op.dest_pos - 1, op.dest_pos) if 0 <= p < len(name)]
    if not changed or not seal:
        return False
    lo, hi = min(changed), max(changed) + 1
    return any(a >= 0 and b <= len(name) and name[a:b] in seal for a, b in ((lo - 1, hi), (lo, hi + 1)))


def _not_found_confidence(
    hospital_text: str | None, seal_text: str | None, registry: HospitalRegistry, read_confidence: float | None,
    *, name_off_seal: bool = True,
) -> float:
    """How sure "not in the registry" is; low unless a full name was read clearly and is far from every
    registered one, or the seal's ring text spells the same full name as the page's print
    (``name_off_seal``: the name was not read off the seal itself)."""
    name = hospital_text if hospital_text and hospital_text.strip() else None
    if name is None:
        # No name on the page; at best the seal's curved text, which OCR reads worst of all.
        return 0.35 if seal_text and seal_text.strip() else 0.2
    variants = [v for v, _ in _query_variants(name)]
    full_names = {v for v in variants if len(v) >= _MIN_FUZZY_LEN and _NAME_END_RE.search(v)}
    if not full_names:
        return 0.35  # a fragment, a department, another kind of organisation: not a hospital's full name
    closest = registry.closest(name)
    if name_off_seal and (
        full_names & {v for v, _ in _query_variants(seal_text or "")}
        or any(_seal_spells_the_difference(v, seal_text or "", closest) for v in full_names)
    ):
        # The seal's ring, read on its own, spells the same full name, or at least the part of it
        # that sets it apart from the nearest registered one: two readings of two different prints
        # do not misread a registered name into the same other one. What is left to doubt is the
        # registry's coverage, not the reading.
        return _CORROBORATED_NOT_FOUND
    read = _UNMEASURED_READ if read_confidence is None else read_confidence
    clear = min(max((read - _POOR_READ) / (_CLEAR_READ - _POOR_READ), 0.0), 1.0)
    similarity = closest[1] if closest else 0.0
    far = min(max((_CLOSE_NAME - similarity) / (_CLOSE_NAME - _FAR_NAME), 0.0), 1.0)
    return round(0.35 + 0.6 * clear * far, 3)


def check_hospital(
    hospital_text: str | None,
    seal_text: str | None,
    registry: HospitalRegistry,
    min_grade: str | None,
    *,
    read_confidence: float | None = None,
    name_off_seal: bool = True,
) -> HospitalCheck:
    """Resolve the issuer from the header name, else from the seal, and compare its grade.

    ``read_confidence`` is the OCR score of ``hospital_text`` (its ``FieldValue.confidence``); it
    decides how sure an unresolved or corrected name is. ``name_off_seal``: ``hospital_text`` was
    read from the page's print, not off the seal, so the seal's text agreeing with it is a second
    reading."""
    match: HospitalMatch | None = None
    matched_from: str | None = None
    for text in (hospital_text, seal_text):
        if text and text.strip():
            match = registry.resolve(text)
            if match:
                matched_from = text
                break
    if match is None:
        seen = "、".join(t for t in (hospital_text, seal_text) if t and t.strip())
        reason = f"“{seen}”未在定点医疗机构名录中找到" if seen else "未识别到医疗机构名称，未在定点医疗机构名录中找到"
        # Unknown is a problem only where the policy sets a minimum grade for this document type.
        if min_grade is None:
            return HospitalCheck(outcome=Outcome.NOT_APPLICABLE, matched_from=hospital_text or seal_text, reason=reason)
        return HospitalCheck(
            outcome=Outcome.UNKNOWN,
            confidence=_not_found_confidence(hospital_text, seal_text, registry, read_confidence,
                                             name_off_seal=name_off_seal),
            matched_from=hospital_text or seal_text,
            reason=reason,
        )

    found: dict[str, Any] = {
        "canonical_name": match.canonical_name,
        "grade": match.grade,
        "matched_from": matched_from,
    }
    if min_grade is None:
        return HospitalCheck(outcome=Outcome.NOT_APPLICABLE, **found)
    confidence = _match_confidence(match, read_confidence, from_seal=matched_from != hospital_text)
    ok = meets_min_grade(match.grade, min_grade)
    if ok is None:
        return HospitalCheck(
            outcome=Outcome.UNKNOWN,
            confidence=0.9,  # the registry's grade cannot be compared: sure, whoever reads the page
            reason=f"无法比较医院等级“{match.grade}”与要求的“{min_grade}”",
            **found,
        )
    if not ok:
        return HospitalCheck(
            outcome=Outcome.FAIL,
            confidence=confidence,
            reason=f"{match.canonical_name}为{match.grade}医院，须由{min_grade}及以上医院出具",
            **found,
        )
    return HospitalCheck(outcome=Outcome.PASS, confidence=confidence, **found)
