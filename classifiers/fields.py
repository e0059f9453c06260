"""Field extraction: who, which hospital, which diagnosis and which date a document states.

OCR returns one box per run of text, and forms put labels and values in separate boxes
(``姓`` / ``名孟丁`` / ``性别男`` on an ID card or lab report header). So the page is first rebuilt
into *rows*: boxes whose vertical extents overlap, left to right, joined by one space. Labels are
then matched with regexes that tolerate spaces between characters, the value is read after the
label, and every value keeps the union of the boxes it was read from, so a reviewer sees where on
the page it came from.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from classifiers.dates import (
    DateCandidate,
    birth_date_from_id,
    candidate_field,
    date_candidates,
    doc_date_not_before,
    find_dates,
    pick_doc_date,
    years_as_printed,
)
from classifiers.identity import TextFit, fold_id_glyphs, holder_name, validate_id_number
from classifiers.text import CJK, DIGIT_CONFUSIONS, fold, normalize
from classifiers.types import DATE_NOT_BEFORE, DocType, ExtractedFields, FieldValue
from ocr.types import Box, OcrLine, OcrResult

# --------------------------------------------------------------------------------------------
# Page layout: rows of boxes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    """Where one OCR line sits inside its row's text."""

    start: int
    end: int
    line: OcrLine


@dataclass(frozen=True, slots=True)
class Row:
    """OCR lines on the same visual line, left to right; ``text`` is folded (half-width) and
    the lines are joined by single spaces, so a space in ``text`` may mark a box boundary."""

    page: int
    text: str
    segments: tuple[Segment, ...]

    @property
    def box(self) -> Box:
        return union_box(s.line.box for s in self.segments)

    def segments_in(self, start: int, end: int) -> list[Segment]:
        hit = [s for s in self.segments if s.start < max(end, start + 1) and start < s.end]
        return hit or [min(self.segments, key=lambda s: abs(s.start - start))]

    def box_for(self, start: int, end: int) -> Box:
        return union_box(s.line.box for s in self.segments_in(start, end))

    def raw_for(self, start: int, end: int) -> str:
        return " ".join(s.line.text for s in self.segments_in(start, end))

    def score_for(self, start: int, end: int) -> float:
        """The OCR score of the text the span came from (its weakest box)."""
        return min(s.line.score for s in self.segments_in(start, end))


def union_box(boxes: Iterable[Box]) -> Box:
    items = list(boxes)
    return Box(
        x0=min(b.x0 for b in items),
        y0=min(b.y0 for b in items),
        x1=max(b.x1 for b in items),
        y1=max(b.y1 for b in items),
    )


def _same_row(line: OcrLine, row_lines: list[OcrLine]) -> bool:
    # Compare with the row's mean centre and median height rather than with any member, so a
    # slightly skewed page does not chain the whole table into one row.
    cy = sum(ln.box.center[1] for ln in row_lines) / len(row_lines)
    heights = sorted(ln.box.height for ln in row_lines)
    h = max(heights[len(heights) // 2], 1.0)
    return abs(line.box.center[1] - cy) <= 0.5 * max(min(h, line.box.height), 1.0)


def build_rows(ocr: OcrResult) -> list[Row]:
    """Every page's lines grouped into visual rows, pages in order, rows top to bottom."""
    rows: list[Row] = []
    for page in ocr.pages:
        groups: list[list[OcrLine]] = []
        for line in sorted((ln for ln in page.lines if ln.text.strip()), key=lambda ln: ln.box.center[1]):
            # Only the last few rows can still take a line: lines are sorted by their centre.
            for group in reversed(groups[-3:]):
                if _same_row(line, group):
                    group.append(line)
                    break
            else:
                groups.append([line])
        for group in groups:
            group.sort(key=lambda ln: ln.box.x0)
            parts: list[str] = []
            segments: list[Segment] = []
            pos = 0
            for line in group:
                text = fold(line.text).strip()
                if parts:
                    pos += 1
                segments.append(Segment(pos, pos + len(text), line))
                parts.append(text)
                pos += len(text)
            rows.append(Row(page=page.index, text=" ".join(parts), segments=tuple(segments)))
    return rows


# --------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------

# Labels that end the value of the field before them when OCR glued two fields together
# ("名孟丁性别男", "科室儿科床号12"). Spaced forms because labels are often printed spaced out.
_STOP_LABELS = re.compile(
    r"性\s*别|年\s*龄|科\s*室|科\s*别|民\s*族|出\s*生|门\s*诊\s*号|住\s*院\s*号|床\s*号|床\s*位|病\s*历\s*号"
    r"|病\s*案\s*号|病\s*区|标\s*本|样\s*本|送\s*检|申\s*请|联\s*系|电\s*话|地\s*址|住\s*址|职\s*业|婚\s*姻"
    r"|籍\s*贯|入\s*院|出\s*院|身\s*份|证\s*件|就\s*诊|日\s*期|时\s*间|编\s*号|卡\s*号|费\s*别|诊\s*断"
    r"|医\s*师|医\s*生|检\s*查|检\s*验|临\s*床|条\s*码|类\s*型|单\s*位|登\s*记|ID|No\b|NO\b|门\s*诊(?!部)"
    r"|住\s*院(?!部)|年\s*月|岁|工\s*作"
)

# A row that starts a new labelled field or section; ends multi-row values (diagnosis, address).
_SECTION_START = re.compile(
    rf"^\s*(?:[{CJK}()]{{2,10}}\s*[:]|建\s*议|处\s*理|处\s*置|医\s*嘱|治\s*疗|诊\s*疗|出\s*院\s*医\s*嘱|出\s*院\s*情\s*况"
    r"|医\s*师|医\s*生|签\s*名|签\s*字|日\s*期|注\s*意|备\s*注|入\s*院\s*情\s*况|住\s*院\s*经\s*过|主\s*诉|现\s*病\s*史"
    r"|既\s*往|体\s*格|辅\s*助|病\s*程|检\s*查\s*所\s*见|影\s*像\s*所\s*见|检\s*查\s*方\s*法|特\s*此|此\s*证"
    r"|以\s*上|休\s*息|全\s*休|公\s*民|盖\s*章|医\s*院\s*盖\s*章|报\s*告|审\s*核|打\s*印|出\s*院\s*带\s*药"
    r"|出\s*院\s*诊\s*断|入\s*院\s*诊\s*断|诊\s*断|随\s*访|复\s*查|手\s*术)"
)


@dataclass(frozen=True, slots=True)
class _Hit:
    """A label found in a row; ``value_start`` indexes the row text just after the label."""

    row_index: int
    label: str
    start: int
    value_start: int


def _find_labels(rows: Sequence[Row], pattern: re.Pattern[str]) -> list[_Hit]:
    hits = []
    for i, row in enumerate(rows):
        for m in pattern.finditer(row.text):
            value_start = m.end()
            # Skip the separator after the label.
            while value_start < len(row.text) and row.text[value_start] in " :;,":
                value_start += 1
            hits.append(_Hit(i, re.sub(r"\s+", "", m.group(0)), m.start(), value_start))
    return hits


def _cut_at_stop_label(text: str) -> str:
    m = _STOP_LABELS.search(text)
    return text[: m.start()] if m else text


def _field(row: Row, start: int, end: int, value: str) -> FieldValue:
    raw = row.raw_for(start, end)
    return FieldValue(value=value, page=row.page, box=row.box_for(start, end), raw=raw if raw != value else None,
                      confidence=round(row.score_for(start, end), 3))


def _multi_row_field(rows: Sequence[Row], parts: list[tuple[int, int, int]], value: str) -> FieldValue:
    """A value read over several rows: ``parts`` holds (row index, start, end) of each piece."""
    boxes = [rows[i].box_for(s, e) for i, s, e in parts]
    raw = " ".join(rows[i].raw_for(s, e) for i, s, e in parts)
    score = min(rows[i].score_for(s, e) for i, s, e in parts)
    return FieldValue(value=value, page=rows[parts[0][0]].page, box=union_box(boxes), raw=raw if raw != value else None,
                      confidence=round(score, 3))


# --------------------------------------------------------------------------------------------
# Name, gender
# --------------------------------------------------------------------------------------------

_NAME_LABEL = re.compile(
    r"(?:(?:患\s*者|病\s*人|病\s*员|就\s*诊\s*人|受\s*检\s*者|被\s*检\s*者|参\s*保\s*人|持\s*卡\s*人)\s*)?姓\s*名"
    r"|(?:患\s*者|病\s*人|就\s*诊\s*人|受\s*检\s*者|参\s*保\s*人|持\s*卡\s*人|用\s*户)(?=\s*:)"
    # Apps put the label alone on the left and the name alone on the right of the same row.
    r"|(?<![\u4e00-\u9fff])(?:就\s*诊\s*人|参\s*保\s*人|持\s*卡\s*人|用\s*户)(?=\s+\S)"
    # 患者 alone on the left only when what stands right of it is one lone word (never a sentence).
    r"|(?<![\u4e00-\u9fff])患\s*者(?=\s+[\u4e00-\u9fff·*＊]{2,8}(?:\s|$))"
)
# A name label preceded by these is somebody else's name (the doctor, a relative).
_NOT_PATIENT_BEFORE = re.compile(
    r"(?:医\s*师|医\s*生|家\s*属|联\s*系\s*人|代\s*理\s*人|监\s*护\s*人|经\s*办\s*人|护\s*士)\s*$"
)
# A name, with the middle dot of a minority name in any of the forms OCR returns it (·.・).
_NAME_VALUE = re.compile(rf"[{CJK}](?:[{CJK}]|[·.・](?=[{CJK}]))+")
# A masked name as apps show it (张*, *建国, 张*国, 欧阳**): kept as read, the '*' standing for the
# characters not shown.
_MASKED_NAME = re.compile(rf"(?:[{CJK}]{{1,2}}[*＊]{{1,3}}[{CJK}]?|[*＊]{{1,2}}[{CJK}]{{1,3}})(?![{CJK}*＊])")
# A name OCR returned in several boxes: spaced out (张 建 国) or with a compound surname apart
# (欧 阳娜娜).
_SPLIT_NAME = re.compile(rf"[{CJK}](?: [{CJK}](?![{CJK}]))+(?![{CJK}])|[{CJK}] [{CJK}]{{1,3}}(?![{CJK}])")


def _extract_name(rows: Sequence[Row]) -> FieldValue | None:
    for hit in _find_labels(rows, _NAME_LABEL):
        row = rows[hit.row_index]
        if _NOT_PATIENT_BEFORE.search(row.text[: hit.start]):
            continue
        masked = _MASKED_NAME.match(row.text, hit.value_start)
        if masked:
            value = masked.group(0).replace("＊", "*")
            if 2 <= len(value) <= 4:
                return _field(row, hit.value_start, masked.end(), value)
        m = _NAME_VALUE.match(row.text, hit.value_start) or _SPLIT_NAME.match(row.text, hit.value_start)
        if not m:
            continue
        text = _cut_at_stop_label(m.group(0)).rstrip()
        name = re.sub(r"[.・]", "·", text.replace(" ", ""))
        # "张三男" when the gender box touches the name box.
        if len(name) > 2 and name[-1] in "男女":
            name = name[:-1]
            text = text[:-1].rstrip()
        if " " in text and name[-1] in "男女":
            continue  # "张 男": a one-character read and the gender
        if 2 <= len(name) <= 4 or ("·" in name and len(name) <= 12):
            end = hit.value_start + len(text)
            return _field(row, hit.value_start, end, name)
    return None


_GENDER = re.compile(r"性\s*别\s*:?\s*([男女])")
_GENDER_NARRATIVE = re.compile(r"(?:^|[,，\s])([男女])\s*[,，\s]\s*\d{1,3}\s*岁")


def _extract_gender(rows: Sequence[Row]) -> FieldValue | None:
    for pattern in (_GENDER, _GENDER_NARRATIVE):
        for row in rows:
            m = pattern.search(row.text)
            if m:
                return _field(row, m.start(1), m.end(1), m.group(1))
    return None


# --------------------------------------------------------------------------------------------
# ID number (GB 11643)
# --------------------------------------------------------------------------------------------

_CONFUSABLE = re.escape("".join(DIGIT_CONFUSIONS))
_ID_CANDIDATE = re.compile(rf"(?<![0-9A-Za-z])([0-9{_CONFUSABLE}]{{17}}[0-9Xx×{_CONFUSABLE}])(?![0-9])")
_ID_LABEL = re.compile(
    r"身\s*份\s*证?\s*(?:号\s*码|号|证\s*号)|证\s*件\s*号|社\s*会\s*保\s*障\s*号|社\s*保\s*号|身\s*份\s*证|公\s*民\s*身\s*份"
)


def _id_candidates(row: Row) -> list[tuple[str, str, int, int]]:
    """(normalised value, raw, start, end) for every 18-character ID-like run in the row."""
    # Spaces are dropped (OCR splits "3707 8219 ..."), with a map back to row offsets.
    kept = [(i, c) for i, c in enumerate(row.text) if not c.isspace()]
    compact = "".join(c for _, c in kept)
    out = []
    for m in _ID_CANDIDATE.finditer(compact):
        raw = m.group(1)
        if sum(c.isdigit() for c in raw) < 12:
            continue  # a run of letters, not a number
        start, end = kept[m.start(1)][0], kept[m.end(1) - 1][0] + 1
        out.append((raw, raw, start, end))
    return out


def _normalise_id(raw: str) -> tuple[str, bool, bool]:
    """The ID number, whether its checksum holds, and whether letters read for digits were folded
    (``11O1O5`` → ``110105``: a letter cannot be part of the number). Digits are never changed here:
    without the application's number a checksum repair would be a guess (see
    ``classifiers.identity``), so a wrong number is reported as read."""
    folded, changed = fold_id_glyphs(raw)
    return folded, validate_id_number(folded), changed > 0


def _extract_id_number(rows: Sequence[Row]) -> FieldValue | None:
    best: tuple[int, FieldValue] | None = None
    for i, row in enumerate(rows):
        for raw, _, start, end in _id_candidates(row):
            value, valid, folded = _normalise_id(raw)
            labelled = bool(_ID_LABEL.search(row.text[:start])) or (i > 0 and bool(_ID_LABEL.search(rows[i - 1].text)))
            plain = value[:17].isdigit() and (value[17].isdigit() or value[17] == "X")
            if not valid and not (labelled and plain):
                continue
            rank = 2 * valid + labelled
            if best is None or rank > best[0]:
                field = _field(row, start, end, value)
                if folded and field.confidence is not None:
                    # Letters read for digits: the line was not read cleanly.
                    field = field.model_copy(update={"confidence": round(field.confidence * 0.9, 3)})
                best = (rank, field)
    return best[1] if best else _short_labelled_id(rows)


# A number after the 公民身份号码 label that is too short to be one (the last digits cut off by the
# photo's edge, or a 15-digit first-generation number): reported as printed, so it fails the check.
_SHORT_ID = re.compile(r"(?<![0-9])([0-9]{15,17})(?![0-9Xx×])")


def _short_labelled_id(rows: Sequence[Row]) -> FieldValue | None:
    for row in rows:
        label = _ID_LABEL.search(row.text)
        if label is None:
            continue
        rest = row.text[label.end():]
        compact = rest.replace(" ", "")
        m = _SHORT_ID.search(compact)
        if m is None or not re.fullmatch(r"[证号码:：]*", compact[: m.start()]):
            continue
        start = label.end() + rest.index(m.group(1)[0])
        field = _field(row, start, len(row.text), m.group(1))
        return field.model_copy(update={"confidence": round((field.confidence or 1.0) * 0.9, 3)})
    return None


# --------------------------------------------------------------------------------------------
# Hospital and department
# --------------------------------------------------------------------------------------------

_HOSPITAL_SUFFIX = re.compile(
    r"医院|卫生院|保健院|保健所|卫生服务中心|卫生服务站|医疗中心|医学中心|医学检验实验室|检验中心|影像中心"
    r"|体检中心|健康管理中心|诊所|门诊部|卫生所|卫生室|医务室|疗养院|康复中心|急救中心"
    # Campus and short names as printed in headers: 哈医大一院群力院区, 省医东院.
    r"|院区|分院|[一二三四五六七八九十东西南北]院(?:区)?"
)
# Branch campuses written after the hospital's name.
_CAMPUS = re.compile(rf"^(?:\(?[{CJK}]{{1,6}}(?:院区|分院)\)?|院区|分院)")
# What follows the hospital's name on a title line; cut there ("…医院化验报告单").
_TITLE_WORDS = re.compile(
    r"检验报告|化验报告|检查报告|报告单|化验单|检验单|诊断证明|证明书|疾病证明|病情证明|医疗证明|出院小结|出院记录"
    r"|出院证明|门诊病历|门\(急\)诊|急诊病历|病历|病案首页|住院病案|检查申请|收费票据|票据|发票|处方|预约|检验科|检验中心报告"
)
_HOSPITAL_LABEL = re.compile(
    r"^(?:医\s*院\s*名\s*称|医\s*疗\s*机\s*构(?:\s*名\s*称)?|就\s*诊\s*医\s*院|开\s*具\s*单\s*位|出\s*具\s*单\s*位|单\s*位|机\s*构)\s*:?\s*"
)
_NOT_HOSPITAL_LINE = re.compile(
    r"地\s*址|电\s*话|邮\s*编|网\s*址|传\s*真|患\s*者|病\s*人|于\s*\d|曾\s*在|就\s*诊\s*于|转\s*入|外\s*院"
)


def _hospital_in_text(text: str) -> tuple[int, int] | None:
    """(start, end) of a hospital name in one row's text, or None."""
    label = _HOSPITAL_LABEL.match(text)
    start = label.end() if label else 0
    # "收款单位:苏州市立医院": whatever label precedes a colon is not part of the name.
    suffix = _HOSPITAL_SUFFIX.search(text, start)
    colon = text.rfind(":", start, suffix.start() if suffix else len(text))
    if colon >= 0:
        start = colon + 1
        while start < len(text) and text[start] == " ":
            start += 1
    body = text[start:]
    title = _TITLE_WORDS.search(body, 2)
    if title:
        body = body[: title.start()]
    matches = list(_HOSPITAL_SUFFIX.finditer(body))
    if not matches:
        return None
    end = matches[-1].end()
    campus = _CAMPUS.match(body[end:])
    if campus:
        end += campus.end()
    if body[end : end + 1] == ")" and body[:end].count("(") > body[:end].count(")"):
        end += 1  # "…医院(平江院区)": the suffix was inside the brackets
    name = body[:end].strip()
    lead = len(body[:end]) - len(body[:end].lstrip())
    # A hospital name is mostly CJK and at least "XX医院".
    if len(name) < 4 or sum(not ("\u4e00" <= c <= "\u9fff" or c in "()") for c in name) > 4:
        return None
    return start + lead, start + end


def _extract_hospital(rows: Sequence[Row]) -> FieldValue | None:
    candidates: list[tuple[float, FieldValue]] = []
    first_page = rows[0].page if rows else 0
    page_bottom = max((r.box.y1 for r in rows if r.page == first_page), default=1.0)
    for i, row in enumerate(rows):
        if _NOT_HOSPITAL_LINE.search(row.text):
            continue
        # Each box on its own first (a title box next to a number box), then the whole row.
        spans: list[tuple[int, int]] = []
        for seg in row.segments:
            found = _hospital_in_text(row.text[seg.start : seg.end])
            if found:
                spans.append((seg.start + found[0], seg.start + found[1]))
        if not spans:
            found = _hospital_in_text(row.text)
            if found:
                spans.append(found)
        for start, end in spans:
            name = re.sub(r"\s+", "", row.text[start:end])
            labelled = bool(_HOSPITAL_LABEL.match(row.text))
            # Top of the first page is where the issuer's name is printed; lower lines are more
            # often a seal read in pieces or a mention in the narrative.
            rel_y = row.box.y0 / page_bottom if row.page == first_page else 1.5 + row.page
            score = rel_y - (0.5 if labelled else 0.0) + i * 1e-4
            candidates.append((score, _field(row, start, end, name)))
    if not candidates:
        return None
    return min(candidates, key=lambda c: c[0])[1]


_DEPARTMENT_LABEL = re.compile(
    r"(?:就\s*诊|申\s*请|送\s*检|开\s*单|所\s*在|住\s*院)?\s*科\s*室(?:\s*名\s*称)?|科\s*别|病\s*区"
)
_DEPARTMENT_VALUE = re.compile(rf"[{CJK}()0-9]{{2,16}}")


def _extract_department(rows: Sequence[Row]) -> FieldValue | None:
    for hit in _find_labels(rows, _DEPARTMENT_LABEL):
        row = rows[hit.row_index]
        m = _DEPARTMENT_VALUE.match(row.text, hit.value_start)
        if not m:
            continue
        value = _cut_at_stop_label(m.group(0))
        if len(value) >= 2:
            return _field(row, hit.value_start, hit.value_start + len(value), value)
    return None


# --------------------------------------------------------------------------------------------
# Diagnosis
# --------------------------------------------------------------------------------------------

_DIAGNOSIS_LABEL = re.compile(
    r"(出\s*院\s*诊\s*断|入\s*院\s*诊\s*断|初\s*步\s*诊\s*断|临\s*床\s*诊\s*断|门\s*\(?\s*急?\s*\)?\s*诊\s*诊\s*断"
    r"|最\s*后\s*诊\s*断|确\s*定\s*诊\s*断|诊\s*断\s*意\s*见|影\s*像\s*诊\s*断|病\s*理\s*诊\s*断|诊\s*断\s*结\s*果"
    r"|疾\s*病\s*诊\s*断|主\s*要\s*诊\s*断|检\s*查\s*结\s*论|诊\s*断\s*结\s*论|超\s*声\s*提\s*示|印\s*象|结\s*论|诊\s*断)"
    r"(?!\s*(?:证\s*明|书|医|日\s*期|时\s*间|依\s*据|编\s*码|科|单\s*位|机\s*构|报\s*告|专\s*用))"
)

# Label preference per document type, most wanted first; labels not listed rank last.
_DIAGNOSIS_PREFERENCE: dict[DocType, tuple[str, ...]] = {
    DocType.DISCHARGE_SUMMARY: (
        "出院诊断",
        "最后诊断",
        "确定诊断",
        "主要诊断",
        "诊断",
        "疾病诊断",
        "临床诊断",
        "入院诊断",
    ),
    DocType.DIAGNOSIS_CERTIFICATE: (
        "诊断",
        "疾病诊断",
        "临床诊断",
        "诊断结果",
        "诊断意见",
        "出院诊断",
        "初步诊断",
        "门诊诊断",
        "主要诊断",
    ),
    DocType.LAB_REPORT: (
        "诊断意见",
        "影像诊断",
        "病理诊断",
        "诊断结果",
        "印象",
        "检查结论",
        "诊断结论",
        "超声提示",
        "结论",
        "临床诊断",
        "诊断",
    ),
    DocType.MEDICAL_RECORD: (
        "主要诊断",
        "出院诊断",
        "诊断",
        "初步诊断",
        "门诊诊断",
        "门急诊诊断",
        "临床诊断",
        "疾病诊断",
        "诊断意见",
    ),
}
_DIAGNOSIS_DEFAULT = ("诊断", "临床诊断", "疾病诊断", "初步诊断", "诊断意见", "出院诊断")
_MAX_DIAGNOSIS_ROWS = 5


def _clean_diagnosis(text: str) -> str:
    # OCR splits "(右乳)浸润性导管癌" into two boxes; the row join must not leave a space inside.
    return re.sub(r"(?<=[)\]】])\s+|\s+(?=[)\]】])", "", normalize(text)).strip(" ,;:.。，；")


# Column headers of the diagnosis table on a 病案首页.
_TABLE_HEADER_ONLY = re.compile(
    r"(?:\s*(?:疾\s*病\s*编\s*码|编\s*码|ICD-?10|入\s*院\s*病\s*情|出\s*院\s*情\s*况|治\s*疗\s*结\s*果))*\s*"
)


def _value_above_lone_label(rows: Sequence[Row], hit: _Hit) -> FieldValue | None:
    """The value of a table cell whose label sits alone, centred in a tall cell, while the value
    starts at the top of the cell: the rows just above the label and to its right."""
    row = rows[hit.row_index]
    label_box = row.segments_in(hit.start, hit.value_start)[0].line.box
    line_h = max(label_box.height, 1.0)
    picked: list[int] = []
    lowest_y0 = label_box.y0
    for j in range(hit.row_index - 1, max(-1, hit.row_index - 1 - _MAX_DIAGNOSIS_ROWS), -1):
        prev = rows[j]
        if prev.page != row.page or lowest_y0 - prev.box.y1 > 2.5 * line_h:
            break
        if prev.box.x0 < label_box.x1 - 0.5 * line_h or _SECTION_START.match(prev.text):
            break  # the row of the previous cell, which starts in the label column
        picked.append(j)
        lowest_y0 = prev.box.y0
    if not picked:
        return None
    picked.reverse()
    value = _clean_diagnosis(" ".join(rows[j].text for j in picked))
    if not value or not re.search(f"[{CJK}]", value):
        return None
    return _multi_row_field(rows, [(j, 0, len(rows[j].text)) for j in picked], value)


def _read_diagnosis_at(rows: Sequence[Row], hit: _Hit) -> FieldValue | None:
    row = rows[hit.row_index]
    rest = row.text[hit.value_start :]
    # Another labelled field on the same row ends the value ("诊断:高血压 医师:李四").
    stop = re.search(rf"\s[{CJK}]{{2,6}}\s*:", rest)
    if stop:
        rest = rest[: stop.start()]
    parts: list[tuple[int, int, int]] = []
    texts: list[str] = []
    if _TABLE_HEADER_ONLY.fullmatch(rest):
        rest = ""  # "出院诊断 疾病编码 入院病情": a table header, the diagnoses are the rows below
    if not _clean_diagnosis(rest) and not row.text[: hit.start].strip():
        above = _value_above_lone_label(rows, hit)
        if above:
            return above
    if _clean_diagnosis(rest):
        parts.append((hit.row_index, hit.value_start, hit.value_start + len(rest)))
        texts.append(rest)
    # Continuation rows: numbered diagnoses or a value printed under its label.
    label_x = row.segments_in(hit.start, hit.value_start)[0].line.box.x0
    last_y1 = row.box.y1
    line_h = max(row.box.height, 1.0)
    for j in range(hit.row_index + 1, min(len(rows), hit.row_index + 1 + _MAX_DIAGNOSIS_ROWS)):
        nxt = rows[j]
        if nxt.page != row.page or nxt.box.y0 - last_y1 > 1.8 * line_h:
            break
        if _SECTION_START.match(nxt.text) or find_dates(nxt.text):
            break
        numbered = bool(re.match(r"^\s*\(?\d{1,2}\s*[.、)]", nxt.text))
        if texts and not numbered and not re.match(r"^\s*\(?\d{1,2}\s*[.、)]", texts[0]):
            break  # a plain one-line value; the next row is something else
        if nxt.box.x0 < label_x - 2 * line_h:
            break  # text further left than the label belongs to the page, not the value
        parts.append((j, 0, len(nxt.text)))
        texts.append(nxt.text)
        last_y1 = nxt.box.y1
    value = _clean_diagnosis(" ".join(texts))
    if not value or not re.search(f"[{CJK}]", value):
        return None
    return _multi_row_field(rows, parts, value)


def _in_narrative(row: Row, hit: _Hit) -> bool:
    """A label word inside running text ("…诊断为乙肝后肝硬化") rather than a printed label: text
    right before it in the same box and no colon after it."""
    before = row.text[max(0, hit.start - 1) : hit.start]
    after = row.text[hit.start : hit.value_start]
    return before not in ("", " ") and ":" not in after


def _extract_diagnosis(rows: Sequence[Row], doc_type: DocType) -> FieldValue | None:
    preference = _DIAGNOSIS_PREFERENCE.get(doc_type, _DIAGNOSIS_DEFAULT)
    hits = _find_labels(rows, _DIAGNOSIS_LABEL)

    def rank(hit: _Hit) -> tuple[bool, int, int]:
        label = hit.label.replace("(", "").replace(")", "")
        order = preference.index(label) if label in preference else len(preference)
        return _in_narrative(rows[hit.row_index], hit), order, hit.row_index

    for hit in sorted(hits, key=rank):
        found = _read_diagnosis_at(rows, hit)
        if found:
            return found
    return None


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------

# The date logic lives in classifiers/dates.py; these names keep the ID card code below unchanged.
_DateHit = DateCandidate


def _date_field(rows: Sequence[Row], hit: DateCandidate) -> FieldValue:
    return candidate_field(rows, hit)


# --------------------------------------------------------------------------------------------
# Identity documents
# --------------------------------------------------------------------------------------------

_ETHNICITY = re.compile(rf"民\s*族\s*:?\s*([{CJK}]{{1,6}})")
_ADDRESS_LABEL = re.compile(r"住\s*址|地\s*址")
_AUTHORITY = re.compile(r"签\s*发\s*机\s*关\s*:?\s*(\S.*)")
_VALID_PERIOD = re.compile(r"有\s*效\s*期\s*限\s*:?\s*(\S.*)")


def _id_card_extra(rows: Sequence[Row], dates: list[_DateHit]) -> dict[str, FieldValue]:
    extra: dict[str, FieldValue] = {}
    for row in rows:
        m = _ETHNICITY.search(row.text)
        if m and "ethnicity" not in extra:
            value = _cut_at_stop_label(m.group(1))
            if value:
                extra["ethnicity"] = _field(row, m.start(1), m.start(1) + len(value), value)
        m = _AUTHORITY.search(row.text)
        if m and "issuing_authority" not in extra:
            extra["issuing_authority"] = _field(row, m.start(1), m.end(1), m.group(1).strip())
        m = _VALID_PERIOD.search(row.text)
        if m and "valid_period" not in extra:
            extra["valid_period"] = _valid_period_field(row, m.start(1), m.end(1))

    birth = [h for h in dates if h.kind == "birth"]
    if birth:
        extra["birth_date"] = _date_field(rows, birth[0])

    address = _address(rows)
    if address:
        extra["address"] = address
    return extra


def _valid_period_field(row: Row, start: int, end: int) -> FieldValue:
    """有效期限 as an ISO 8601 interval ``2016-08-01/2036-08-01`` (or ``…/长期``)."""
    text = row.text[start:end]
    dates = [d for d, _ in find_dates(text, allow_compact=True)]
    if len(dates) >= 2:
        value = f"{dates[0].value}/{dates[1].value}"
    elif len(dates) == 1 and "长期" in text:
        value = f"{dates[0].value}/长期"
    else:
        value = normalize(text)
    return _field(row, start, end, value)


def _address(rows: Sequence[Row]) -> FieldValue | None:
    hits = _find_labels(rows, _ADDRESS_LABEL)
    if not hits:
        return None
    hit = hits[0]
    row = rows[hit.row_index]
    parts = [(hit.row_index, hit.value_start, len(row.text))] if row.text[hit.value_start :].strip() else []
    value_x = row.box_for(hit.value_start, len(row.text)).x0 if parts else row.box.x1
    last_y1, line_h = row.box.y1, max(row.box.height, 1.0)
    for j in range(hit.row_index + 1, min(len(rows), hit.row_index + 4)):
        nxt = rows[j]
        if nxt.page != row.page or nxt.box.y0 - last_y1 > 1.5 * line_h:
            break
        if _ID_LABEL.search(nxt.text) or _id_candidates(nxt) or _SECTION_START.match(nxt.text):
            break
        if nxt.box.x0 < value_x - 1.5 * line_h:
            break  # starts left of the address column: a new field
        parts.append((j, 0, len(nxt.text)))
        last_y1 = nxt.box.y1
    if not parts:
        return None
    value = "".join(re.sub(r"\s+", "", rows[i].text[s:e]) for i, s, e in parts)
    return _multi_row_field(rows, parts, value) if value else None


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def extract_fields(
    ocr: OcrResult, doc_type: DocType, identity_kind: str | None = None, *, as_of: dt.date | None = None,
    text_fit: TextFit | None = None,
) -> ExtractedFields:
    """The contract's fields (with the page and box each was read from) for a classified document.

    ``doc_type`` decides which labelled diagnosis and which date count; ``identity_kind`` (from
    ``classify``) says which side of an ID card this is; ``as_of`` (the date recency is measured
    against) makes a date after it an unlikely document date. ``text_fit`` (the recogniser's fit of
    a text to a line's pixels) reads a document date's year again where OCR misread it
    (``years_as_printed``). Fields not found are None.
    """
    rows = build_rows(ocr)
    if not rows:
        return ExtractedFields()
    dates = date_candidates(rows, page_sizes={p.index: (float(p.width), float(p.height)) for p in ocr.pages},
                            as_of=as_of)
    is_identity = doc_type == DocType.ID_CARD

    fields = ExtractedFields(
        patient_name=None if identity_kind == "resident_id_back" else (
            _extract_name(rows) or (holder_name(rows) if doc_type == DocType.ID_CARD else None)
        ),
        gender=None if identity_kind == "resident_id_back" else _extract_gender(rows),
        id_number=_extract_id_number(rows),
        hospital_name=None if is_identity else _extract_hospital(rows),
        department=None if is_identity else _extract_department(rows),
        diagnosis=None if is_identity else _extract_diagnosis(rows, doc_type),
    )
    if fields.gender is None and fields.id_number and validate_id_number(fields.id_number.value):
        # Cards that print no 性别 (社会保障卡) still state it: the 17th digit is odd for men.
        id_field = fields.id_number
        gender = "男" if int(id_field.value[16]) % 2 else "女"
        fields.gender = FieldValue(value=gender, page=id_field.page, box=id_field.box, raw=id_field.value)
    if is_identity:
        fields.extra = _id_card_extra(rows, dates)
    else:
        id_number = fields.id_number.value if fields.id_number else None
        birth = birth_date_from_id(id_number)
        if text_fit is not None and as_of is not None:
            dates = years_as_printed(rows, dates, doc_type, as_of, text_fit,
                                     read_pages={p.index for p in ocr.pages if p.source == "ocr"})
        fields.doc_date = pick_doc_date(rows, doc_type, birth_date=birth, candidates=dates, as_of=as_of)
        if fields.doc_date is None and (
            bound := doc_date_not_before(rows, doc_type, birth_date=birth, candidates=dates, as_of=as_of)
        ):
            fields.extra = {DATE_NOT_BEFORE: bound}
    return fields
