"""Is the document about the applicant: the name and 公民身份号码 on it against the application.

Names are short (two to four characters, each one meaningful), so a fuzzy ratio would let 张伟
match 张玮 — another person. A name matches only when it is equal after normalisation (full-width,
spaces, the middle dot of minority names) or differs in exactly one character that OCR is known to
confuse with the applicant's (己/已, 王/玉 …); anything else is a mismatch for a reviewer to see.

ID numbers: the document's number must satisfy GB 11643 (checksum and a real birth date) and equal
the application's after folding ``x``. Hospitals often print masked numbers
(``230102********1234``); those are compared on the digits that are shown and cannot be validated.
On a document that is not the identity document, a number that fails the checksum and differs from
the application's by a single character is taken as an OCR misreading: its match is unknown rather
than a mismatch, since the ID card is what proves the number.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from classifiers.types import DocumentContext, ExtractedFields, IdentityCheck, Outcome

__all__ = ["OCR_CONFUSABLE_NAME_CHARS", "names_match", "normalize_id_number", "validate_id_number"]

_EARLIEST_BIRTH = dt.date(1890, 1, 1)  # nobody older holds a second-generation ID card
_MASK_CHARS = "*＊×xX●•·-"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_MASKED_RE = re.compile(r"^[\d*]{6,17}[\dX*]$")

# Pairs of characters that PP-OCR is known to read for one another in printed names. Kept short on
# purpose: every pair added here is a pair of people the check can no longer tell apart.
# Only glyphs that differ by one short stroke or dot qualify; 杨/扬 look alike too, but they are
# two surnames, so they stay apart.
_CONFUSABLE_PAIRS = ("己已巳", "王玉", "土士", "日曰", "人入", "干千于", "天夭", "戊戌戍", "未末", "候侯")
OCR_CONFUSABLE_NAME_CHARS: dict[str, frozenset[str]] = {}
for _group in _CONFUSABLE_PAIRS:
    for _c in _group:
        OCR_CONFUSABLE_NAME_CHARS[_c] = OCR_CONFUSABLE_NAME_CHARS.get(_c, frozenset()) | frozenset(_group)


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


def _normalize_name(name: str) -> str:
    text = unicodedata.normalize("NFKC", name or "")
    # Minority names are written with a middle dot that OCR returns as any of several glyphs.
    return re.sub(r"[\s·•‧・.\-]", "", text)


def names_match(document_name: str, applicant_name: str) -> bool:
    """Equal after normalisation, or one character off by a known OCR confusion."""
    a, b = _normalize_name(document_name), _normalize_name(applicant_name)
    if not a or not b:
        return False
    if a == b:
        return True
    if len(a) != len(b) or len(a) < 2:
        return False
    diffs = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    return len(diffs) == 1 and diffs[0][1] in OCR_CONFUSABLE_NAME_CHARS.get(diffs[0][0], frozenset())


def _one_given_char_off(document_name: str, applicant_name: str) -> bool:
    """Same surname and length (3 characters or more), one other character different."""
    a, b = _normalize_name(document_name), _normalize_name(applicant_name)
    if len(a) != len(b) or len(a) < 3 or a[0] != b[0]:
        return False
    return sum(x != y for x, y in zip(a, b, strict=True)) == 1


def _masked_matches(masked: str, full: str) -> bool:
    return len(masked) == len(full) and all(m == "*" or m == f for m, f in zip(masked, full, strict=True))


def check_identity(fields: ExtractedFields, ctx: DocumentContext, *, is_identity_document: bool) -> IdentityCheck:
    """Name and ID number on the document against the application (``ctx``)."""
    doc_name = fields.patient_name.value.strip() if fields.patient_name and fields.patient_name.value.strip() else None
    doc_id_raw = fields.id_number.value.strip() if fields.id_number and fields.id_number.value.strip() else None
    if doc_name is None and doc_id_raw is None:
        return IdentityCheck(outcome=Outcome.UNKNOWN, reason="材料上未识别到姓名或身份证号码")

    problems: list[str] = []
    uncertain: list[str] = []

    name_matches: bool | None = None
    if doc_name is not None and ctx.applicant_name:
        name_matches = names_match(doc_name, ctx.applicant_name)
        if not name_matches and not is_identity_document and _one_given_char_off(doc_name, ctx.applicant_name):
            # Photos of clinical documents misread a rare character of a name (馥 as 旅) far more
            # often than they show another person: the reviewer compares, the applicant is not told.
            name_matches = None
            uncertain.append(f"材料上的姓名“{doc_name}”与申请人“{ctx.applicant_name}”相差一字，疑似识别误差，需人工核对")
        elif not name_matches:
            problems.append(f"材料上的姓名“{doc_name}”与申请人“{ctx.applicant_name}”不一致")

    id_valid: bool | None = None
    id_matches: bool | None = None
    if doc_id_raw is not None:
        doc_id = normalize_id_number(doc_id_raw)
        app_id = normalize_id_number(ctx.id_number) if ctx.id_number else None
        if "*" in doc_id:
            # A masked number proves nothing about validity; compare the digits that are shown.
            if not _MASKED_RE.match(doc_id):
                uncertain.append(f"无法识别身份证号码“{doc_id_raw}”")
            elif app_id:
                id_matches = _masked_matches(doc_id, app_id)
                if not id_matches:
                    problems.append("材料上的身份证号码与申请人的身份证号码不一致")
        else:
            id_valid = validate_id_number(doc_id)
            if app_id:
                id_matches = doc_id == app_id
            misread = (
                not id_valid
                and not is_identity_document
                and app_id is not None
                and len(doc_id) == len(app_id)
                and sum(a != b for a, b in zip(doc_id, app_id, strict=True)) == 1
            )
            if misread:
                id_matches = None
                uncertain.append("身份证号码疑似识别有误（校验位不符且仅一位不同），需人工核对")
            elif not id_valid:
                problems.append(f"身份证号码“{doc_id_raw}”校验未通过，请上传清晰、完整的身份证件照片")
            elif id_matches is False:
                problems.append("材料上的身份证号码与申请人的身份证号码不一致")

    if problems:
        outcome = Outcome.FAIL
    elif uncertain:
        outcome = Outcome.UNKNOWN
    else:
        outcome = Outcome.PASS
    reason = "；".join(problems + uncertain) or None
    return IdentityCheck(
        outcome=outcome, id_valid=id_valid, name_matches=name_matches, id_matches=id_matches, reason=reason
    )
