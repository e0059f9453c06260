"""The backlog commands as an operator types them, through typer's CliRunner on small trees:
``intake import ROOT --local`` (summary as table, CSV and JSON; a bad folder is one line; importing
twice creates nothing twice) and ``intake rescan --local --dry-run --format json --out FILE`` (the
JSON contract of issue 13, key for key).

Real OCR models (loaded once for the module and shared with the command's prescreener), real
SQLite; each test runs the command against its own database, seeded with the module's OCR cache so
the sample files are read once."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from intake import cli
from intake.cli import app
from intake.jobs import WorkerContext
from intake.local import InlineDispatch, prescreen_folder
from intake.models import Application, Case, Document, ImportRecord, OcrCacheEntry
from intake.prescreen import Prescreener
from intake.settings import REPO_ROOT, Settings, get_settings
from intake.store import session_factory

SAMPLES = REPO_ROOT / "fixtures" / "samples"
READY = "c01_suihua_ready_diabetes"
LOW_GRADE = "c08_liupanshui_grade_too_low"  # a 一级 community centre's diagnosis certificate
LOW_GRADE_CERT = "wx_camera_1967177905660.jpg"
REGISTRY = REPO_ROOT / "fixtures" / "registry" / "hospitals.csv"

# The rescan JSON contract, as issue 13 writes it.
RESULT_KEYS = {"selected", "unchanged", "changed", "versions"}
CHANGED_KEYS = {"application_id", "case_id", "old_verdict", "new_verdict", "problems_added", "problems_removed",
                "decided", "redone"}
VERSION_PARTS = {"policy", "registry", "catalogue", "classifier", "ocr"}

pytestmark = pytest.mark.ocr
runner = CliRunner()


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Prescreener:
    """Loaded models and an OCR cache holding the two samples' files (read once for the module)."""
    tmp = tmp_path_factory.mktemp("cli-models")
    prescreener = Prescreener(Settings(db={"url": f"sqlite:///{tmp / 'cache.db'}"}))
    ctx = WorkerContext(Settings(db={"url": f"sqlite:///{tmp / 'warm.db'}"}, storage={"root": tmp / "files"}))
    ctx.prescreener = prescreener  # type: ignore[misc]
    ctx.dispatch = InlineDispatch(ctx)  # type: ignore[misc]
    for sample in (READY, LOW_GRADE):
        prescreen_folder(ctx, SAMPLES / sample)
    return prescreener


@pytest.fixture
def deployment(tmp_path: Path, models: Prescreener, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The command's settings point at a fresh database (with the OCR cache copied in) and file
    store; its prescreener shares the module's loaded models. Yields the database file."""
    db = tmp_path / "intake.db"
    monkeypatch.setenv("INTAKE_DB__URL", f"sqlite:///{db}")
    monkeypatch.setenv("INTAKE_STORAGE__ROOT", str(tmp_path / "files"))
    get_settings.cache_clear()
    with models.sessions() as source, session_factory(f"sqlite:///{db}").begin() as target:
        for entry in source.scalars(select(OcrCacheEntry)):
            target.merge(OcrCacheEntry(sha256=entry.sha256, fingerprint=entry.fingerprint,
                                       media_type=entry.media_type, result=entry.result, seal=entry.seal))

    def shared(registry: Path | None) -> Prescreener:
        prescreener = Prescreener(get_settings(), registry_path=registry)
        prescreener.engine, prescreener.seal_reader = models.engine, models.seal_reader
        return prescreener

    monkeypatch.setattr(cli, "_prescreener", shared)
    yield db
    get_settings.cache_clear()


def tree(root: Path) -> Path:
    """Three application folders (two samples under their own case ids) and two bad ones."""
    top = root / "backlog"
    for n, sample in enumerate((READY, LOW_GRADE, LOW_GRADE)):
        folder = top / "counter-a" / f"app-{n}"
        shutil.copytree(SAMPLES / sample, folder, ignore=shutil.ignore_patterns("truth.json"))
        data = json.loads((folder / "application.json").read_text("utf-8"))
        (folder / "application.json").write_text(
            json.dumps({**data, "case_id": f"PAPER-{n}"}, ensure_ascii=False), "utf-8")
    (top / "counter-b" / "no-json").mkdir(parents=True)
    shutil.copy(next((SAMPLES / READY).glob("*.jpg")), top / "counter-b" / "no-json")
    (top / "counter-b" / "broken-json").mkdir()
    (top / "counter-b" / "broken-json" / "application.json").write_text('{"applicant_name": ', "utf-8")
    return top


def rows(db: Path) -> tuple[int, ...]:
    with session_factory(f"sqlite:///{db}")() as session:
        return tuple(session.scalar(select(func.count()).select_from(t)) or 0
                     for t in (Application, Document, Case, ImportRecord))


def bad_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("bad ")]


def test_import_local_summaries_bad_folders_and_a_second_import(deployment: Path, tmp_path: Path) -> None:
    root = tree(tmp_path)
    out = tmp_path / "summary.json"

    first = runner.invoke(app, ["import", str(root), "--local", "--format", "json", "--out", str(out)])

    assert first.exit_code == 0, first.output
    summary = json.loads(out.read_text("utf-8"))
    assert summary["applications"] == 5 and summary["status"] == {"imported": 3, "bad": 2}
    assert summary["verdicts"] == {"ready_for_review": 1, "needs_supplement": 2}
    assert summary["problems"] == {"grade_too_low": 2}
    assert summary["documents"] == 12 and summary["pages"] >= 12
    assert sorted(Path(b["source"]).name for b in summary["bad"]) == ["broken-json", "no-json"]
    # Each bad folder is one line on stderr, with its reason; the batch went on past them.
    lines = bad_lines(first.stderr)
    assert len(lines) == 2 and any("no-json" in ln and "application.json is missing" in ln for ln in lines)
    assert rows(deployment) == (3, 12, 3, 3)
    by_case = {r["case_id"]: r for r in summary["rows"] if r["case_id"]}
    assert by_case["PAPER-1"]["problems"] == f"grade_too_low:{LOW_GRADE_CERT}"

    # Again, as CSV on stdout: nothing is created twice, every good folder is "already".
    second = runner.invoke(app, ["import", str(root), "--local", "--format", "csv"])

    assert second.exit_code == 0, second.output
    table = list(csv.DictReader(io.StringIO(second.stdout)))
    assert len(table) == 5
    assert sorted(r["status"] for r in table) == ["already", "already", "already", "bad", "bad"]
    assert {r["case_id"]: r["verdict"] for r in table if r["case_id"]} == {
        "PAPER-0": "ready_for_review", "PAPER-1": "needs_supplement", "PAPER-2": "needs_supplement"}
    assert rows(deployment) == (3, 12, 3, 3)
    assert len(bad_lines(second.stderr)) == 2

    # The table, for a person.
    third = runner.invoke(app, ["import", str(root), "--local"])
    assert third.exit_code == 0, third.output
    assert "import: 5 applications, 12 documents" in third.stdout
    assert "status: already" in third.stdout and "problems: grade_too_low" in third.stdout
    assert rows(deployment) == (3, 12, 3, 3)


def test_rescan_local_dry_run_json_contract(deployment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tree(tmp_path)
    assert runner.invoke(app, ["import", str(root), "--local", "--format", "json"]).exit_code == 0
    before = rows(deployment)
    with session_factory(f"sqlite:///{deployment}")() as session:
        ids = {a.external_ref: a.id for a in session.scalars(select(Application))}

    # The operator's change: the community centre is now a 二级甲等 hospital.
    registry = tmp_path / "hospitals.csv"
    upgraded = REGISTRY.read_text("utf-8").replace(",荷泉社区卫生服务中心,一级", ",荷泉社区卫生服务中心,二级甲等")
    registry.write_text(upgraded, "utf-8")
    monkeypatch.setenv("INTAKE_REGISTRY_PATH", str(registry))
    get_settings.cache_clear()
    out = tmp_path / "rescan.json"

    result = runner.invoke(app, ["rescan", "--local", "--dry-run", "--format", "json", "--out", str(out)])

    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text("utf-8"))
    assert set(report) >= RESULT_KEYS
    assert (report["selected"], report["unchanged"], len(report["changed"])) == (3, 1, 2)
    assert set(report["versions"]) == {"before", "after"}
    assert set(report["versions"]["before"]) == set(report["versions"]["after"]) == VERSION_PARTS
    assert report["versions"]["before"]["registry"] != report["versions"]["after"]["registry"]
    assert report["versions"]["before"]["policy"] == report["versions"]["after"]["policy"]
    for entry in report["changed"]:
        assert set(entry) >= CHANGED_KEYS
        assert entry["application_id"] == ids[entry["case_id"]]
        assert (entry["old_verdict"], entry["new_verdict"]) == ("needs_supplement", "ready_for_review")
        assert entry["problems_added"] == [] and entry["problems_removed"] == [f"grade_too_low:{LOW_GRADE_CERT}"]
        assert entry["decided"] is False and entry["redone"] == "assessment"
    assert sorted(e["case_id"] for e in report["changed"]) == ["PAPER-1", "PAPER-2"]
    assert rows(deployment) == before  # a dry run: no new case, nothing changed

    # Selected by a file of ids: only that application.
    wanted = tmp_path / "ids.txt"
    wanted.write_text("PAPER-2\n", "utf-8")
    one = runner.invoke(app, ["rescan", "--local", "--dry-run", "--ids", str(wanted), "--format", "json"])
    assert one.exit_code == 0, one.output
    only = json.loads(one.stdout)
    assert only["selected"] == 1 and [e["case_id"] for e in only["changed"]] == ["PAPER-2"]
