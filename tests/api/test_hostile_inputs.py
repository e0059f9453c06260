"""Hostile and odd uploads (``tests/api/hostile.py``, issue 10) never hurt the worker, the service or
the application they arrive in.

GIVEN each file of the corpus uploaded to its own application beside one good document (a
text-layer PDF), the file's name sent to the server as it is (a raw line break, ``<script>``, U+202E)
WHEN the application is submitted and a real rq worker (``intake worker --burst``, a subprocess:
a crash or a memory bomb kills it, not the test) works its queues
THEN the file is refused at upload (4xx, its code, a Chinese message) or ends ``failed`` with a
clear code or ``done``, as the corpus says; the service answers /healthz after the upload and after
the worker; the worker returns by itself (no crash, no hang: it is killed after ``DEADLINE_S`` and
for the machine's sake past ``SAFETY_RSS_MB``), its resident memory stays under
``WORKER_RSS_CEILING_MB``; the good document is read and the application gets its verdict; no
applicant-facing text (refusal, document error, notice) carries English exception text. For the
file-name cases the name is normalised wherever it is shown (upload answer, status, report,
problems, notice), and the notice keeps its shape: a greeting, numbered items, a closing — a line
break in a name cannot forge an item.

One worker per case costs ~10 s of start-up each (models), the price of knowing which file did
what. SQLite only: these files test the readers, not the database (``test_bad_inputs`` runs both).

    INTAKE_TEST_REDIS_URL=redis://127.0.0.1:6379/7 .venv/bin/pytest tests/api/test_hostile_inputs.py -s

``-s`` prints the table of what happened to each file (outcome, code, seconds, the worker's peak RSS).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from intake.models import Case, Document
from tests.api.badinputs import APPLICATION, DONE, FAILED, REFUSED, good_pdf
from tests.api.badinputs import corpus as bad_corpus
from tests.api.conftest import Service
from tests.api.faultproxy import service_on_private_redis
from tests.api.hostile import HOSTILE_NAMES, HostileInput, corpus

REPO = Path(__file__).resolve().parents[2]
DEADLINE_S = float(os.environ.get("HOSTILE_WORKER_DEADLINE_S", 180))  # one case: start-up, two files, the verdict
WORKER_RSS_CEILING_MB = float(os.environ.get("HOSTILE_WORKER_RSS_CEILING_MB", 2048))  # asserted
SAFETY_RSS_MB = float(os.environ.get("HOSTILE_WORKER_SAFETY_RSS_MB", 4096))  # the worker and its children: killed

ITEMS = corpus()
_NAME_IDS = dict(zip(HOSTILE_NAMES, ["name-newline", "name-script", "name-500-chars", "name-rtl-override",
                                     "name-path"], strict=True))
_CHINESE = re.compile(r"[\u4e00-\u9fff]")
# Latin words an applicant-facing message may hold: the formats it names. Anything else three letters
# or longer (``cannot``, ``OSError``, ``malformed``) is English leaking from an exception.
_FORMAT_WORDS = {"JPG", "JPEG", "PNG", "HEIC", "HEIF", "PDF", "WEBP", "TIFF", "BMP", "GIF", "ZIP", "OCR"}
_QUOTED = re.compile(r"《[^》]*》|「[^」]*」|“[^”]*”")  # file names and text quoted from a document


def _case_id(item: HostileInput) -> str:
    return _NAME_IDS.get(item.name, item.name)


@pytest.fixture(scope="module", autouse=True)
def _private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with service_on_private_redis(tmp_path_factory.mktemp("redis")):
        yield


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only (overrides the conftest's sqlite + postgres pair): the readers are under test here."""
    return f"sqlite:///{tmp_path / 'intake.db'}"


@pytest.fixture(scope="module")
def table() -> Iterator[list[tuple[str, ...]]]:
    """Rows of what happened, printed (with ``-s``) when the module is done."""
    rows: list[tuple[str, ...]] = []
    yield rows
    _print_table(rows)


# --- the worker, as a process of its own ------------------------------------------------------------


@dataclass
class WorkerRun:
    exit_code: int | None
    seconds: float
    peak_rss_mb: float  # the worker process
    peak_tree_rss_mb: float  # the worker and its children (a parsing sandbox, if it has one)
    killed: str  # why the test killed it; "" when it returned by itself
    log: Path

    def problems(self) -> list[str]:
        out = []
        if self.killed:
            out.append(f"the worker was killed by the test: {self.killed}; see {self.log}")
        elif self.exit_code != 0:
            out.append(f"the worker died (exit code {self.exit_code}); log tail: {_tail(self.log)}")
        if self.peak_rss_mb > WORKER_RSS_CEILING_MB:
            out.append(f"the worker's RSS peaked at {self.peak_rss_mb:.0f} MB, over {WORKER_RSS_CEILING_MB:.0f} MB")
        return out


def run_burst_worker(service: Service, workdir: Path) -> WorkerRun:
    """``intake worker --burst --no-supervise`` on the service's database, Redis and file store, until
    it returns; killed (its process group, which it leads) past ``DEADLINE_S`` or ``SAFETY_RSS_MB``."""
    import psutil

    settings = service.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update({
        "INTAKE_DB__URL": settings.db.url,
        "INTAKE_REDIS__URL": settings.redis.url,
        "INTAKE_STORAGE__ROOT": str(settings.storage.root),
        "INTAKE_QUEUE__RETRY_BACKOFF_SECONDS": "[0, 0, 0]",
        "PYTHONPATH": str(REPO),
        "PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK": "True",
    })
    workdir.mkdir(parents=True, exist_ok=True)  # its cwd: empty, so no stray .env is read
    log = workdir / "worker.log"
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "intake.cli", "worker", "--burst", "--no-supervise"],
                                env=env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    peak = peak_tree = 0.0
    killed = ""
    try:
        me = psutil.Process(proc.pid)
        while proc.poll() is None:
            with contextlib.suppress(psutil.Error):
                rss = me.memory_info().rss / 2**20
                tree = rss + sum(_rss_mb(child) for child in me.children(recursive=True))
                peak, peak_tree = max(peak, rss), max(peak_tree, tree)
            if peak_tree > SAFETY_RSS_MB:
                killed = f"its processes passed {SAFETY_RSS_MB:.0f} MB of RSS"
            elif time.monotonic() - started > DEADLINE_S:
                killed = f"still running after {DEADLINE_S:.0f} s"
            if killed:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.05)
    finally:
        proc.wait(30)
    return WorkerRun(proc.returncode, time.monotonic() - started, peak, peak_tree, killed, log)


def _rss_mb(process) -> float:  # type: ignore[no-untyped-def]
    import psutil

    try:
        return float(process.memory_info().rss) / 2**20
    except psutil.Error:
        return 0.0


def _tail(log: Path, lines: int = 6) -> str:
    with contextlib.suppress(OSError):
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-lines:])
    return ""


# --- uploads ---------------------------------------------------------------------------------------


def multipart(name: str, data: bytes) -> tuple[bytes, str]:
    """One ``files`` part with the file name as an app may really send it: UTF-8, a line break or a
    bidi control kept as they are (httpx would percent-encode the line break; only ``"`` must go)."""
    boundary = uuid.uuid4().hex
    disposition = 'form-data; name="files"; filename="' + name.replace('"', "%22") + '"'
    body = (f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _upload(service: Service, app_id: str, name: str, data: bytes):  # type: ignore[no-untyped-def]
    body, content_type = multipart(name, data)
    return service.client.post(f"/v1/applications/{app_id}/documents", content=body,
                               headers=service.headers("app-a", **{"Content-Type": content_type}))


def _healthy(service: Service) -> bool:
    response = service.client.get("/healthz")
    return response.status_code == 200 and response.json() == {"status": "ok"}


# --- what applicants and apps are shown ---------------------------------------------------------------


def english_in(text: str) -> list[str]:
    """English words in applicant-facing ``text``, quoted file names and document text left aside."""
    words = re.findall(r"[A-Za-z][A-Za-z_]{2,}", _QUOTED.sub("", text))
    return [w for w in words if w.upper() not in _FORMAT_WORDS]


def _check_message(what: str, text: str | None) -> list[str]:
    if not (text or "").strip():
        return [f"{what} is empty"]
    problems = []
    if not _CHINESE.search(text or ""):
        problems.append(f"{what} is not Chinese: {text!r}")
    if english := english_in(text or ""):
        problems.append(f"{what} carries English text {english}: {text!r}")
    return problems


def name_problems(where: str, shown: str) -> list[str]:
    """A file name as shown: one line of plain text, no markup, no path, no bidi trickery, bounded."""
    problems = []
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in shown):
        problems.append(f"{where}: control or format characters in {shown!r}")
    if "<" in shown or ">" in shown:
        problems.append(f"{where}: markup in {shown!r}")
    if "/" in shown or "\\" in shown:
        problems.append(f"{where}: a path in {shown!r}")
    if len(shown) > 255:
        problems.append(f"{where}: {len(shown)} characters")
    if not shown.strip():
        problems.append(f"{where}: empty")
    return problems


def notice_problems(notice: str, applicant: str) -> list[str]:
    """The 一次性告知 notice keeps its shape: greeting, numbered items, closing; nothing forged."""
    problems = []
    lines = notice.split("\n")
    greeting = f"{applicant}您好："
    for n, line in enumerate(lines):
        if n == 0 and line.startswith(greeting):
            continue
        if n == len(lines) - 1 and n > 0 and line.startswith("以上为本次预审发现的全部问题"):
            continue
        if re.match(rf"{n}\. ", line):
            continue  # the items are numbered 1, 2, … in order: a forged "2. " is out of place
        problems.append(f"notice line {n + 1} is not the greeting, an item in order or the closing: {line!r}")
    if "<script" in notice.lower():
        problems.append("the notice contains <script>")
    if "伪造的条目" in notice and any(line.startswith("2. 伪造的条目") for line in lines):
        problems.append("a line break in a file name forged an item of the notice")
    return problems


# --- the test ----------------------------------------------------------------------------------------------


@pytest.mark.redis
@pytest.mark.ocr
@pytest.mark.parametrize("item", ITEMS, ids=[_case_id(i) for i in ITEMS])
def test_hostile_input_is_refused_or_ends_clearly_and_never_hurts_the_worker(
    item: HostileInput, service: Service, tmp_path: Path, table: list[tuple[str, ...]]
) -> None:
    problems: list[str] = []
    created = service.client.post("/v1/applications", json={**APPLICATION, "external_ref": "HOSTILE"},
                                  headers=service.headers("app-a"))
    assert created.status_code == 201, created.text
    app_id = created.json()["id"]
    good = _upload(service, app_id, "门诊病历.pdf", good_pdf(f"hostile {item.name}"))
    assert good.status_code == 201, good.text
    good_id = good.json()["documents"][0]["id"]

    response = _upload(service, app_id, item.name, item.data)
    if not _healthy(service):
        problems.append("the service stopped answering /healthz after the upload")
    refusal_code = ""
    if response.status_code in (200, 201):
        if item.outcomes == {REFUSED}:
            problems.append("accepted, but must be refused at upload")
        doc_id = response.json()["documents"][0]["id"]
        if item.name_case:
            problems += name_problems("upload answer", response.json()["documents"][0]["filename"])
    else:
        doc_id = None
        refusal_code, refusal_problems = _check_refusal(item, response)
        problems += refusal_problems
    submitted = service.client.post(f"/v1/applications/{app_id}/submit", headers=service.headers("app-a"))
    assert submitted.status_code == 202, submitted.text

    run = run_burst_worker(service, tmp_path / "worker")
    problems += run.problems()
    if not _healthy(service):
        problems.append("the service stopped answering /healthz after the worker")

    end, code, seconds = "refused" if doc_id is None else "?", refusal_code, ""
    with service.sessions()() as session:
        good_doc = session.get(Document, good_id)
        assert good_doc is not None
        if good_doc.status != DONE:
            problems.append(f"the good document ended {good_doc.status}: {good_doc.error_code} {good_doc.error}")
        case = session.scalars(select(Case).where(Case.application_id == app_id)).first()
        if case is None:
            problems.append("the application got no verdict")
        else:
            for line in case.notice.split("\n"):
                if "无法识别：" in line:  # an unreadable document's item: "《name》（材料）无法识别：<its error>"
                    problems += _check_message("a reason in the notice", line.split("无法识别：", 1)[1])
        if doc_id is not None:
            doc = session.get(Document, doc_id)
            assert doc is not None
            end, code = doc.status, doc.error_code or ""
            if doc.started_at and doc.finished_at:
                seconds = f"{(doc.finished_at - doc.started_at).total_seconds():.1f}"
            problems += _check_document(item, doc)
        notice = case.notice if case else ""
        case_problems = list(case.problems) if case else []

    if item.name_case and doc_id is not None:
        problems += _check_names_shown(service, app_id, item, notice, case_problems)

    table.append((_case_id(item), "/".join(sorted(item.outcomes)), str(response.status_code), end, code, seconds,
                  f"{run.peak_rss_mb:.0f}", f"{run.peak_tree_rss_mb:.0f}", f"{run.seconds:.0f}",
                  "; ".join(problems) or "ok"))
    assert not problems, f"{item.name!r} ({item.why}):\n  " + "\n  ".join(problems)


def _check_refusal(item: HostileInput, response) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    problems = []
    if REFUSED not in item.outcomes:
        problems.append(f"refused ({response.status_code} {response.text[:300]}), but must be accepted")
    if not 400 <= response.status_code < 500:
        problems.append(f"status {response.status_code} is not a 4xx")
    elif item.http and response.status_code not in item.http:
        problems.append(f"status {response.status_code}, expected one of {sorted(item.http)}")
    files = response.json().get("files") or []
    if len(files) != 1:
        return "", [*problems, f"the refusal does not name one file: {response.text[:300]}"]
    refusal = files[0]
    code = refusal.get("code") or ""
    if not code:
        problems.append("no file-level code")
    elif item.accepted_codes and code not in item.accepted_codes:
        problems.append(f"code {code!r}, expected {sorted(item.accepted_codes)}")
    problems += _check_message("the refusal message", refusal.get("message"))
    return code, problems


def _check_document(item: HostileInput, doc: Document) -> list[str]:
    problems = []
    if doc.status not in item.outcomes:
        problems.append(f"ended {doc.status} ({doc.error_code}: {doc.error_detail or doc.error}), "
                        f"expected {sorted(item.outcomes)}")
    if doc.status == FAILED:
        problems += _check_message("the document's error", doc.error)
        if doc.error_code == "internal":
            problems.append(f"an internal error (a crash), not a clear reason: {doc.error_detail}")
        elif item.accepted_codes and doc.error_code not in item.accepted_codes:
            problems.append(f"error code {doc.error_code!r}, expected {sorted(item.accepted_codes)}")
    if doc.status == DONE:
        report = doc.report or {}
        if item.media_type and doc.media_type != item.media_type:
            problems.append(f"read as {doc.media_type}, expected {item.media_type}")
        if item.text and item.text not in report.get("text", ""):
            problems.append(f"the text read lacks {item.text!r} (the scan was not OCR'd?): "
                            f"{report.get('text', '')[:80]!r}")
    if doc.attempts != 1:
        problems.append(f"attempts {doc.attempts}, expected 1 (a fault of ours, retried: {doc.last_fault})")
    if item.max_seconds and doc.started_at and doc.finished_at:
        took = (doc.finished_at - doc.started_at).total_seconds()
        if took > item.max_seconds:
            problems.append(f"took {took:.0f} s, more than {item.max_seconds:.0f} s")
    return problems


def _check_names_shown(service: Service, app_id: str, item: HostileInput, notice: str,
                       case_problems: list[str]) -> list[str]:
    """The name wherever it is shown: status, report (documents and problems) and notice."""
    problems = []
    status = service.client.get(f"/v1/applications/{app_id}", headers=service.headers("app-a")).json()
    shown = [d["filename"] for d in status.get("documents") or [] if d["filename"] != "门诊病历.pdf"]
    if len(shown) != 1:
        problems.append(f"the status lists {shown!r}")
    for name in shown:
        problems += name_problems("status", name)
    report = service.client.get(f"/v1/applications/{app_id}/report", headers=service.headers("app-a"))
    if report.status_code == 200:
        body = report.json()
        for doc in body.get("documents") or []:
            if doc.get("file") != "门诊病历.pdf":
                problems += name_problems("report documents", doc.get("file", ""))
        for files in (body.get("materials") or {}).values():
            for name in files:
                if name != "门诊病历.pdf":
                    problems += name_problems("report materials", name)
        if body.get("notice") != notice:
            problems.append("the report's notice is not the case's")
    else:
        problems.append(f"no report: {report.status_code} {report.text[:200]}")
    for code in case_problems:
        _, _, subject = str(code).partition(":")
        if subject and subject != "门诊病历.pdf":
            problems += name_problems("problems", subject)
    problems += notice_problems(notice, APPLICATION["applicant_name"])
    if not any(n in notice for n in shown):
        problems.append("the notice does not name the file (nothing about the name is checked there)")
    return problems


def _print_table(rows: list[tuple[str, ...]]) -> None:
    header = ("file", "expected", "upload", "end", "code", "doc s", "RSS MB", "+children", "worker s",
              "verdict of the test")
    if not rows:
        return
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    print()
    for row in [header, *rows]:
        cells = [c + " " * (w - _width(c)) for c, w in zip(row[:-1], widths, strict=True)]
        print("  ".join(cells), " ", row[-1])


def _width(text: str) -> int:
    return sum(2 if "\u2e80" <= ch <= "\uffff" else 1 for ch in text)


def test_corpus_is_new_built_in_code_and_covers_every_class() -> None:
    """At least 25 files, none of the first corpus's, every class of issue 10, small, and built in code."""
    names = [i.name for i in ITEMS]
    assert len(names) == len(set(names)) >= 25
    assert not set(names) & {b.name for b in bad_corpus()}
    data = {i.name: i.data for i in ITEMS}
    first = {i.name: i.data for i in bad_corpus()}
    assert not set(data.values()) & set(first.values()), "a file of the first corpus came back under a new name"
    assert sum(map(len, data.values())) < 6 * 1024 * 1024
    assert Path(__file__).with_name("hostile.py").stat().st_size < 64 * 1024
    by_suffix = {n.rsplit(".", 1)[-1].lower() for n in names}
    assert {"pdf", "tiff", "jpg", "png", "webp", "docx"} <= by_suffix
    assert set(HOSTILE_NAMES) <= set(names)
    assert {i.name for i in ITEMS if i.name_case} == set(HOSTILE_NAMES)
    assert all(i.why or i.name_case or i.outcomes == {DONE} for i in ITEMS if i.outcomes != {DONE})
