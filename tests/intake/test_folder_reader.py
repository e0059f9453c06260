"""The folder reader of ``intake prescreen``: every entry of a folder ends quickly as a document or
as a skip with its reason; nothing is followed out of the folder, blocked on, read whole when too
large, or silently ignored. Documents here are small text-layer PDFs (no OCR) or unreadable bytes."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

import intake.local
from intake import clock, jobs
from intake.application import FolderFileChanged, load_application, read_folder, read_folder_file
from intake.cli import app as cli
from intake.local import FolderResult, local_context, prescreen_folder
from intake.models import Document
from intake.prescreen import Prescreener
from intake.settings import Settings, get_settings
from tests.api.badinputs import good_pdf, small_png

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX file types")

T = TypeVar("T")
runner = CliRunner()
FORGED = "病历\n2. 伪造的一项<img src=x onerror=alert(1)>.pdf"
FORGED_SHOWN = "病历 2. 伪造的一项＜img src=x onerror=alert(1)＞.pdf"
NOT_A_DOCUMENT = b"these bytes are no photo and no PDF"


def _application(**over: object) -> dict[str, object]:
    return {"case_id": "MTB-FOLDER-1", "applicant_name": "张三", "id_number": "11010519491231002X",
            "disease": "糖尿病", "region": "default",
            "application_date": (clock.local_date() - dt.timedelta(days=10)).isoformat(), **over}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    directory = tmp_path / "application"
    directory.mkdir()
    (directory / "application.json").write_text(json.dumps(_application(), ensure_ascii=False), "utf-8")
    return directory


@pytest.fixture
def ctx(tmp_path: Path) -> jobs.WorkerContext:
    settings = Settings(db={"url": f"sqlite:///{tmp_path / 'intake.db'}"}, storage={"root": tmp_path / "files"})
    return local_context(Prescreener(settings))


def within(seconds: float, run: Callable[[], T], *, fifos: tuple[Path, ...] = ()) -> T:
    """``run()``'s result, or a test failure if it takes longer than ``seconds`` (a reader blocked
    on a FIFO is released by opening its other end, so the test run itself never hangs)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = run()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        for fifo in fifos:
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(5)
        pytest.fail(f"still running after {seconds} s: blocked on a FIFO?")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


def skipped_of(result: FolderResult) -> dict[str, str]:
    return {entry["file"]: entry["reason"] for entry in result.cli_report()["skipped"]}


def stored(ctx: jobs.WorkerContext, data: bytes) -> bool:
    return ctx.files.exists(hashlib.sha256(data).hexdigest())


def rows(ctx: jobs.WorkerContext, result: FolderResult) -> list[Document]:
    with ctx.sessions() as session:
        return list(session.scalars(select(Document).where(Document.application_id == result.application_id)))


# --- special files, links, junk, sub-folders ---------------------------------------------------------------


def test_a_folder_with_a_fifo_finishes_quickly_and_reports_it(folder: Path, ctx: jobs.WorkerContext) -> None:
    (folder / "门诊病历.pdf").write_bytes(good_pdf("fifo"))
    os.mkfifo(folder / "pipe.pdf")
    (folder / "link-to-pipe.pdf").symlink_to("pipe.pdf")

    result = within(60, lambda: prescreen_folder(ctx, folder), fifos=(folder / "pipe.pdf",))

    assert [d["file"] for d in result.report["documents"]] == ["门诊病历.pdf"]
    skipped = skipped_of(result)
    assert "named pipe" in skipped["pipe.pdf"]
    assert "named pipe" in skipped["link-to-pipe.pdf"]


def test_a_file_that_becomes_a_fifo_after_listing_is_not_read_and_never_blocks(folder: Path) -> None:
    """GIVEN a regular file listed as a document
    WHEN it is replaced by a FIFO before it is read
    THEN reading it ends at once with "replaced", not in a blocked open()."""
    (folder / "scan.pdf").write_bytes(b"x")
    (document,) = read_folder(folder).documents
    (folder / "scan.pdf").unlink()
    os.mkfifo(folder / "scan.pdf")

    with pytest.raises(FolderFileChanged, match="replaced"):
        within(30, lambda: read_folder_file(document, max_bytes=1000), fifos=(folder / "scan.pdf",))


def test_a_link_to_a_file_outside_the_folder_is_not_read(folder: Path, ctx: jobs.WorkerContext) -> None:
    secret = good_pdf("outside the folder")
    (folder.parent / "secret.pdf").write_bytes(secret)
    (folder / "病历.pdf").symlink_to(folder.parent / "secret.pdf")
    (folder / "relative.pdf").symlink_to("../secret.pdf")
    (folder / "real.pdf").write_bytes(good_pdf("inside"))

    result = prescreen_folder(ctx, folder)

    assert not stored(ctx, secret), "the outside file's content reached the file store"
    assert [d["file"] for d in result.report["documents"]] == ["real.pdf"]
    skipped = skipped_of(result)
    assert "outside the folder" in skipped["病历.pdf"]
    assert "outside the folder" in skipped["relative.pdf"]


def test_a_link_to_a_file_inside_the_folder_is_read_once(
    folder: Path, ctx: jobs.WorkerContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    (folder / "门诊病历.pdf").write_bytes(good_pdf("linked"))
    (folder / "a-link.pdf").symlink_to("门诊病历.pdf")  # sorts first, still the file is read under its own name
    (folder / "sub").mkdir()
    (folder / "sub" / "inner.pdf").write_bytes(good_pdf("in a sub-folder"))
    (folder / "inner-link.pdf").symlink_to("sub/inner.pdf")
    opened: list[str] = []
    real_read = intake.local.read_folder_file

    def spy(document: Any, *, max_bytes: int) -> bytes:
        opened.append(document.name)
        return real_read(document, max_bytes=max_bytes)

    monkeypatch.setattr(intake.local, "read_folder_file", spy)
    result = prescreen_folder(ctx, folder)

    assert sorted(opened) == ["inner-link.pdf", "门诊病历.pdf"]
    assert sorted(d["file"] for d in result.report["documents"]) == ["inner-link.pdf", "门诊病历.pdf"]
    assert "read once" in skipped_of(result)["a-link.pdf"]


def test_broken_and_looping_links_are_reported(folder: Path) -> None:
    (folder / "broken.pdf").symlink_to("nowhere.pdf")
    (folder / "loop-a").symlink_to("loop-b")
    (folder / "loop-b").symlink_to("loop-a")
    (folder / "here").symlink_to(".")
    skipped = {s.name: s.reason for s in read_folder(folder).skipped}
    assert set(skipped) == {"broken.pdf", "loop-a", "loop-b", "here"}
    assert "a link to nothing" in skipped["broken.pdf"]
    assert "a link to nothing" in skipped["loop-a"]


def test_os_junk_is_reported_and_dot_files_are_documents(folder: Path) -> None:
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / "._IMG_0001.jpg").write_bytes(b"\x00\x05\x16\x07")  # AppleDouble
    (folder / "Thumbs.db").write_bytes(b"x")
    (folder / ".scan.png").write_bytes(small_png())
    (folder / "sub").mkdir()

    listed = read_folder(folder)

    assert [d.name for d in listed.documents] == [".scan.png"]
    assert read_folder_file(listed.documents[0], max_bytes=10**6) == small_png()
    skipped = {s.name: s.reason for s in listed.skipped}
    assert set(skipped) == {".DS_Store", "._IMG_0001.jpg", "Thumbs.db", "sub"}
    assert "not a document" in skipped[".DS_Store"]
    assert "not a document" in skipped["._IMG_0001.jpg"]
    assert "sub-folders are not read" in skipped["sub"]
    assert [p.name for p in load_application(folder)[1]] == [".scan.png"]  # the old listing, for its callers


def test_junk_and_sub_folders_are_reported_not_blamed_on_the_applicant(folder: Path, ctx: jobs.WorkerContext) -> None:
    (folder / "门诊病历.pdf").write_bytes(good_pdf("junk"))
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / "._x.jpg").write_bytes(b"\x00\x05\x16\x07")
    (folder / ".hidden.pdf").write_bytes(good_pdf("a dot-file"))
    (folder / "old").mkdir()

    result = prescreen_folder(ctx, folder)

    assert sorted(d["file"] for d in result.report["documents"]) == [".hidden.pdf", "门诊病历.pdf"]
    assert all(d["error"] is None for d in result.report["documents"])
    assert set(skipped_of(result)) == {".DS_Store", "._x.jpg", "old"}
    assert "DS_Store" not in result.report["notice"] and "._x" not in result.report["notice"]


@pytest.mark.ocr
def test_a_dot_file_photo_is_read_as_a_document(folder: Path, ctx: jobs.WorkerContext) -> None:
    (folder / ".scan.png").write_bytes(small_png())
    result = prescreen_folder(ctx, folder)
    assert stored(ctx, small_png())
    assert [d["file"] for d in result.report["documents"]] == [".scan.png"]
    assert [r.filename for r in rows(ctx, result)] == [".scan.png"]


def test_two_files_with_the_same_content_are_one_document_and_say_so(folder: Path, ctx: jobs.WorkerContext) -> None:
    (folder / "a.pdf").write_bytes(good_pdf("twins"))
    (folder / "b.pdf").write_bytes(good_pdf("twins"))
    result = prescreen_folder(ctx, folder)
    assert [d["file"] for d in result.report["documents"]] == ["a.pdf"]
    assert "the same content as a.pdf" in skipped_of(result)["b.pdf"]


# --- size --------------------------------------------------------------------------------------------------


def test_an_oversized_file_is_a_failed_document_and_not_read(folder: Path, ctx: jobs.WorkerContext,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    big = good_pdf("big") * 4
    (folder / "大文件.pdf").write_bytes(big)
    (folder / "门诊病历.pdf").write_bytes(good_pdf("small"))
    monkeypatch.setattr(ctx.settings.limits, "max_file_bytes", len(big) // 2)

    result = prescreen_folder(ctx, folder)

    by_file = {d["file"]: d for d in result.report["documents"]}
    assert by_file["门诊病历.pdf"]["error"] is None
    failed = by_file["大文件.pdf"]
    assert failed["error_code"] == "file_too_large"
    assert failed["error"].startswith("文件过大") and "请压缩或拆分后重新上传" in failed["error"]
    assert "unreadable:大文件.pdf" in result.report["problems"]
    assert not stored(ctx, big)


def test_a_file_that_grows_after_listing_is_read_no_further_than_the_cap(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from intake.errors import FileTooLarge

    (folder / "growing.pdf").write_bytes(b"%PDF-1.4\n")
    (document,) = read_folder(folder).documents
    with (folder / "growing.pdf").open("ab") as grow:
        grow.write(b"0" * 5_000_000)
    read_bytes = 0
    real_read = os.read

    def counting_read(fd: int, n: int) -> bytes:
        nonlocal read_bytes
        chunk = real_read(fd, n)
        read_bytes += len(chunk)
        return chunk

    monkeypatch.setattr(os, "read", counting_read)
    with pytest.raises(FileTooLarge):
        read_folder_file(document, max_bytes=1000)
    assert read_bytes <= 1001


# --- names -------------------------------------------------------------------------------------------------


def test_a_hostile_file_name_is_normalised_in_the_row_the_notice_and_the_report(
    folder: Path, ctx: jobs.WorkerContext
) -> None:
    """GIVEN a file whose name holds a line break with a forged item number, and HTML
    THEN the stored document row, the report's ``file`` and the notice show it normalised, and the
    notice's numbered items are exactly the report's problems."""
    (folder / FORGED).write_bytes(NOT_A_DOCUMENT)
    (folder / "\u202egnp.pdf").write_bytes(NOT_A_DOCUMENT + b"2")

    result = prescreen_folder(ctx, folder)

    assert sorted(r.filename for r in rows(ctx, result)) == sorted([FORGED_SHOWN, "gnp.pdf"])
    assert sorted(d["file"] for d in result.report["documents"]) == sorted([FORGED_SHOWN, "gnp.pdf"])
    notice = result.report["notice"]
    assert f"《{FORGED_SHOWN}》" in notice
    assert "<" not in notice and "\u202e" not in notice
    numbered = [line for line in notice.splitlines() if re.match(r"\d+\. ", line)]
    assert len(numbered) == len(result.report["problems"])


# --- the command line --------------------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("INTAKE_DB__URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("INTAKE_STORAGE__ROOT", str(tmp_path / "cli-files"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_command_prints_what_it_skipped_and_the_json_lists_it(folder: Path, cli_env: None) -> None:
    (folder / FORGED).write_bytes(NOT_A_DOCUMENT)
    (folder / ".DS_Store").write_bytes(b"x")
    os.mkfifo(folder / "pipe.pdf")
    (folder / "sub").mkdir()

    result = within(60, lambda: runner.invoke(cli, ["prescreen", str(folder), "--json"]),
                    fifos=(folder / "pipe.pdf",))

    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("skipped .DS_Store: ")
    assert lines[1].startswith("skipped pipe.pdf: a named pipe")
    assert lines[2].startswith("skipped sub: a folder")
    report = json.loads(result.stdout)
    assert [entry["file"] for entry in report["skipped"]] == [".DS_Store", "pipe.pdf", "sub"]
    assert all(set(entry) == {"file", "reason"} and entry["reason"] for entry in report["skipped"])
    assert [d["file"] for d in report["documents"]] == [FORGED_SHOWN]


def test_the_readable_report_shows_names_normalised(folder: Path, cli_env: None) -> None:
    (folder / FORGED).write_bytes(NOT_A_DOCUMENT)
    (folder / "._x.jpg").write_bytes(b"x")
    result = runner.invoke(cli, ["prescreen", str(folder)], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert FORGED_SHOWN in result.stdout
    assert "<img" not in result.stdout
    assert result.stderr.startswith("skipped ._x.jpg: ")


def test_demo_prints_what_it_skipped_in_each_sample(tmp_path: Path, folder: Path, cli_env: None) -> None:
    (folder / "门诊病历.pdf").write_bytes(good_pdf("demo"))
    (folder / ".DS_Store").write_bytes(b"x")
    result = runner.invoke(cli, ["demo", "--samples", str(folder.parent), "--json"])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("skipped application/.DS_Store: ")
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert json.loads(line)["skipped"][0]["file"] == ".DS_Store"


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"application_date": "9999-12-31"}, "more than a year after today"),
        ({"application_date": 0}, "0 is not a date"),
        ({"application_date": "0"}, "'0' is not a date"),
        ({"applicant_name": "   "}, "applicant_name"),
    ],
    ids=["date-9999", "date-0", "date-string-0", "blank-name"],
)
def test_an_odd_application_json_is_a_clear_error_of_the_command(
    folder: Path, cli_env: None, over: dict[str, object], message: str
) -> None:
    (folder / "application.json").write_text(json.dumps(_application(**over), ensure_ascii=False), "utf-8")
    result = runner.invoke(cli, ["prescreen", str(folder)])
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)  # typer.Exit(2), not a traceback
    assert "error:" in result.stderr and message in result.stderr
    assert "Traceback" not in result.output


def test_an_application_json_that_is_a_fifo_is_refused_without_blocking(folder: Path) -> None:
    (folder / "application.json").unlink()
    os.mkfifo(folder / "application.json")
    from intake.errors import ApplicationInvalid

    with pytest.raises(ApplicationInvalid, match="not a file"):
        within(30, lambda: read_folder(folder), fifos=(folder / "application.json",))
