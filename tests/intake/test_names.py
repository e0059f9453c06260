"""File names are data: one normal form for display (intake.names), used by the document row, the
一次性告知 notice and the terminal report."""

import datetime as dt
import re
import unicodedata

import pytest
from rich.console import Console

from intake.application import Application
from intake.assess import assess
from intake.names import MAX_NAME_CHARS, display_name
from intake.policy import PolicyBook
from intake.render import render_report
from intake.report import DocumentReport, Report, Verdict, unknown_checks
from intake.service import _display_name
from intake.settings import POLICIES_DIR

FORGED = "病历\n2. 伪造的一项<img src=x onerror=alert(1)>.pdf"
FORGED_SHOWN = "病历 2. 伪造的一项＜img src=x onerror=alert(1)＞.pdf"

HOSTILE = [
    FORGED,
    "a\r\n\u2028\u2029\u0085\x0b\x0cb.jpg",
    "病历\u202egnp.exe",
    "\u2066x\u2069\u200b\u200d\ufeff.png",
    "\x00\x07\x1b[31mred.pdf",
    "../../etc/passwd.png",
    "C:\\Users\\张三\\身份证.jpg",
    "<script>alert('x') & \"y\"</script>.png",
    "bad\udcff\udcfe.pdf",  # undecodable bytes, as os.fsdecode hands them over
    "诊断证明" * 124 + ".png",
    "\n\t \u3000",
    "e\u0301.pdf",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_display_name_is_one_inert_bounded_line(name: str) -> None:
    shown = display_name(name)
    assert shown
    assert len(shown) <= MAX_NAME_CHARS
    assert not any(ch.isspace() and ch != " " for ch in shown), "one line, spaces only"
    assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in shown), "nothing invisible"
    assert not set(shown) & set("<>&\"'/\\")
    assert shown == shown.strip() and "  " not in shown
    shown.encode("utf-8")  # storable and printable whatever bytes the name came from


@pytest.mark.parametrize("name", [*HOSTILE, "身份证.jpg", "x" * 400, "a.b.c", "", "🙂.png"])
def test_a_display_name_is_its_own_display_name(name: str) -> None:
    """Idempotent: a stored name is shown unchanged by the notice and the terminal."""
    assert display_name(display_name(name)) == display_name(name)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        (FORGED, FORGED_SHOWN),
        ("病历\u202egnp.exe", "病历gnp.exe"),
        ("../../etc/passwd.png", "passwd.png"),
        ("C:\\Users\\张三\\身份证.jpg", "身份证.jpg"),
        ("a & b's \"c\".pdf", "a ＆ b＇s ＂c＂.pdf"),
        ("  身份证\t正面 .jpg ", "身份证 正面 .jpg"),
        ("bad\udcff.pdf", "bad\ufffd.pdf"),
        ("e\u0301.pdf", "\u00e9.pdf"),  # NFC
        ("\n", "upload"),
        ("身份证.jpg", "身份证.jpg"),
    ],
)
def test_display_name_rules(name: str, shown: str) -> None:
    assert display_name(name) == shown


def test_a_long_name_keeps_its_extension() -> None:
    shown = display_name("诊断证明" * 124 + ".png")
    assert len(shown) == MAX_NAME_CHARS
    assert shown.startswith("诊断证明") and shown.endswith("….png")


def test_the_document_row_uses_the_shared_function() -> None:
    assert _display_name(FORGED) == display_name(FORGED) == FORGED_SHOWN


# --- where names are shown ----------------------------------------------------------------------------


APP = Application(applicant_name="张三", id_number="110105194912310029", disease="糖尿病", region="绥化市",
                  application_date=dt.date(2026, 3, 5))


def test_the_notice_shows_a_raw_name_normalised_and_numbers_only_the_problems() -> None:
    """GIVEN a document report whose file name holds a line break, a forged item number and HTML
    (a report that did not come through the document row)
    WHEN the notice is composed
    THEN the name is shown normalised, and the numbered items are exactly the problems."""
    reason = "不支持该文件格式，请上传照片（JPG、PNG、HEIC 等）或 PDF 文件。"
    unreadable = DocumentReport(file=FORGED, sha256="0" * 64, error=reason, checks=unknown_checks(reason))
    policy = PolicyBook.load(POLICIES_DIR).for_region("绥化市")
    result = assess(APP, policy, [unreadable], submitted=APP.application_date)
    numbered = [line for line in result.notice.splitlines() if re.match(r"\d+\. ", line)]
    assert len(numbered) == len(result.problems)
    assert f"《{FORGED_SHOWN}》" in result.notice
    assert "<" not in result.notice and ">" not in result.notice


def test_the_terminal_report_shows_names_as_text_not_markup() -> None:
    """A name such as ``[bold]x`` is shown as it is, not swallowed as rich markup."""
    names = ["[bold]粗体.pdf", "[red]x[blue].jpg", FORGED]
    docs = [DocumentReport(file=name, sha256=f"{i}" * 64, error="文件无法读取", checks=unknown_checks("x"))
            for i, name in enumerate(names)]
    report = Report(case_id="C1", verdict=Verdict.NEEDS_SUPPLEMENT, problems=[], notice="n", documents=docs,
                    applicant_name="张三", id_number="1", disease="糖尿病", region="绥化市", policy="绥化市",
                    application_date="2026-03-05", as_of="2026-03-05", review_due="2026-03-20", materials={},
                    fingerprint="f")
    console = Console(record=True, width=400)
    render_report(report, console)
    out = console.export_text()
    assert "[bold]粗体.pdf" in out
    assert "[red]x[blue].jpg" in out
    assert FORGED_SHOWN in out
