"""Import of a backlog tree: 50 application folders (four of them bad), interrupted once, resumed,
then imported again: every good application exists once with its verdict, every bad folder is one
line with its reason, and the second import creates nothing.

Real OCR (each distinct file read once: the copies hit the OCR cache), real SQLite."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from intake import backlog, jobs
from intake.jobs import WorkerContext
from intake.local import InlineDispatch
from intake.models import Application, Case, Document, ImportRecord
from intake.prescreen import Prescreener
from intake.settings import REPO_ROOT, Settings

SAMPLES = REPO_ROOT / "fixtures" / "samples"
SOURCES = ("c01_suihua_ready_diabetes", "c08_liupanshui_grade_too_low")
GOOD = 46

pytestmark = pytest.mark.ocr


@pytest.fixture(scope="module")
def prescreener(tmp_path_factory: pytest.TempPathFactory) -> Prescreener:
    cache = tmp_path_factory.mktemp("ocr-cache") / "cache.db"
    return Prescreener(Settings(db={"url": f"sqlite:///{cache}"}))


@pytest.fixture
def ctx(tmp_path: Path, prescreener: Prescreener) -> WorkerContext:
    context = WorkerContext(Settings(db={"url": f"sqlite:///{tmp_path / 'intake.db'}"},
                                     storage={"root": tmp_path / "files"}))
    context.prescreener = prescreener  # type: ignore[misc]
    context.dispatch = InlineDispatch(context)  # type: ignore[misc]
    return context


def generate_tree(root: Path) -> Path:
    """46 good application folders (copies of two samples under their own case ids, one with a
    corrupt photo among its files) and four bad ones, two levels deep for half of them."""
    tree = root / "backlog"
    for n in range(GOOD):
        sample = SAMPLES / SOURCES[n % 2]
        folder = tree / ("counter-a" if n < GOOD // 2 else "counter-b") / f"app-{n:02d}"
        shutil.copytree(sample, folder, ignore=shutil.ignore_patterns("truth.json"))
        data = json.loads((folder / "application.json").read_text("utf-8"))
        data["case_id"] = f"PAPER-{n:03d}"
        (folder / "application.json").write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    (tree / "counter-a" / "app-00" / "torn.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
    bad = tree / "counter-c"
    (bad / "no-application-json").mkdir(parents=True)
    shutil.copy(next((SAMPLES / SOURCES[0]).glob("*.jpg")), bad / "no-application-json")
    (bad / "bad-json").mkdir()
    (bad / "bad-json" / "application.json").write_text('{"applicant_name": "张三", ', "utf-8")
    (bad / "bad-date").mkdir()
    (bad / "bad-date" / "application.json").write_text(json.dumps(
        {"applicant_name": "张三", "id_number": "230102195703152419", "disease": "糖尿病", "region": "绥化市",
         "application_date": "9999-12-31"}), "utf-8")
    (bad / "empty").mkdir()
    return tree


def totals(ctx: WorkerContext) -> tuple[int, ...]:
    with ctx.sessions() as session:
        return tuple(session.scalar(select(func.count()).select_from(t)) or 0
                     for t in (Application, Document, Case, ImportRecord))


def test_tree_of_50_interrupted_resumed_and_imported_again(ctx: WorkerContext, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    tree = generate_tree(tmp_path)
    assert len(backlog.discover(tree)) == 50

    # 1. Interrupted (Ctrl-C) while reading the 30th document.
    real, calls = jobs.process_document, []

    def interrupted(document_id: str, context: WorkerContext | None = None) -> str:
        calls.append(document_id)
        if len(calls) == 30:
            raise KeyboardInterrupt
        return real(document_id, context)

    monkeypatch.setattr(jobs, "process_document", interrupted)
    first: list[backlog.ImportOutcome] = []
    with pytest.raises(KeyboardInterrupt):
        backlog.import_tree(ctx, tree, on_outcome=first.append)
    monkeypatch.setattr(jobs, "process_document", real)
    assert 5 <= len(first) < GOOD
    interrupted_at = len(first)

    # 2. The same command again: finishes, the interrupted application resumed, nothing twice.
    second = backlog.import_tree(ctx, tree)
    by_status: dict[str, list[backlog.ImportOutcome]] = {}
    for outcome in second:
        by_status.setdefault(outcome.status, []).append(outcome)
    assert len(by_status["already"]) == interrupted_at
    assert len(by_status["resumed"]) == 1
    assert len(by_status["imported"]) == GOOD - interrupted_at - 1
    bad = by_status["bad"]
    assert sorted(Path(o.source).name for o in bad) == ["bad-date", "bad-json", "empty", "no-application-json"]
    assert all(o.error and "\n" not in o.error for o in bad)
    assert "application.json is missing" in next(o.error for o in bad if o.source.endswith("empty"))  # type: ignore[operator]
    assert "9999" in next(o.error for o in bad if o.source.endswith("bad-date"))  # type: ignore[operator]
    good = [o for o in second if o.status != "bad"]
    assert len({o.application_id for o in good}) == GOOD
    assert all(o.verdict in ("ready_for_review", "needs_supplement") for o in good)
    apps, documents, cases, records = totals(ctx)
    assert (apps, cases, records) == (GOOD, GOOD, GOOD)
    assert documents == GOOD * 4 + 1  # four files each, and the torn photo
    torn = next(o for o in good if o.case_id == "PAPER-000")
    assert "unreadable:torn.jpg" in torn.problems and torn.verdict == "needs_supplement"
    low = [o for o in good if o.case_id and int(o.case_id[-3:]) % 2 == 1]
    assert all(any(p.startswith("grade_too_low:") for p in o.problems) for o in low)

    # The closing summary: counts, and one row per folder as CSV and JSON.
    summary = backlog.summary(second)
    assert summary["applications"] == 50 and sum(summary["verdicts"].values()) == GOOD
    assert summary["problems"]["grade_too_low"] == GOOD // 2 and summary["problems"]["unreadable"] == 1
    assert summary["pages"] >= GOOD * 4
    rows = list(csv.DictReader(io.StringIO(backlog.summary_csv(second))))
    assert len(rows) == 50 and {r["status"] for r in rows} == {"already", "resumed", "imported", "bad"}
    assert json.loads(backlog.summary_json(second))["status"]["bad"] == 4

    # 3. Imported again: nothing is created twice.
    third = backlog.import_tree(ctx, tree)
    assert sorted({o.status for o in third}) == ["already", "bad"]
    assert totals(ctx) == (apps, documents, cases, records)
    assert [o.verdict for o in third] == [o.verdict for o in second]


def test_manifest_and_watched_folder(ctx: WorkerContext, tmp_path: Path) -> None:
    import threading
    import time

    # A CSV manifest naming the fields and files of one application (and a row naming no files).
    sample = SAMPLES / SOURCES[1]
    data = json.loads((sample / "application.json").read_text("utf-8"))
    files = sorted(p.name for p in sample.iterdir() if p.suffix in (".jpg", ".png", ".pdf"))
    manifest = tmp_path / "export" / "cases.csv"
    manifest.parent.mkdir()
    for name in files:
        shutil.copy(sample / name, manifest.parent / name)
    with manifest.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=backlog.MANIFEST_COLUMNS)
        writer.writeheader()
        writer.writerow({**{k: data.get(k, "") for k in backlog.MANIFEST_COLUMNS}, "case_id": "OLD-1",
                         "files": "|".join(files)})
        writer.writerow({**{k: data.get(k, "") for k in backlog.MANIFEST_COLUMNS}, "case_id": "OLD-2", "files": ""})
    outcomes = backlog.import_tree(ctx, manifest)
    assert [o.status for o in outcomes] == ["imported", "bad"]
    assert outcomes[0].case_id == "OLD-1" and outcomes[0].documents == len(files)
    assert any(p.startswith("grade_too_low:") for p in outcomes[0].problems)
    assert backlog.import_tree(ctx, manifest)[0].status == "already"

    # A watched folder: a folder still being written is left alone; once complete, it is imported.
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    stop = threading.Event()
    seen: list[backlog.ImportOutcome] = []
    watcher = threading.Thread(target=backlog.watch, args=(ctx, inbox),
                               kwargs={"settle_seconds": 1.0, "on_outcome": seen.append, "stop": stop,
                                       "poll_seconds": 0.2})
    watcher.start()
    try:
        folder = inbox / "scan-0001"
        folder.mkdir()
        shutil.copy(sample / files[0], folder / files[0])
        time.sleep(1.5)
        assert seen == []  # no application.json yet: not complete
        for name in files[1:]:
            shutil.copy(sample / name, folder / name)
        (folder / "application.json").write_text(json.dumps({**data, "case_id": "SCAN-1"}, ensure_ascii=False),
                                                 "utf-8")
        deadline = time.monotonic() + 120
        while not seen and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        watcher.join(timeout=30)
    assert [(o.case_id, o.status, o.documents) for o in seen] == [("SCAN-1", "imported", len(files))]
