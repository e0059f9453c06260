"""Re-scan of a backlog after a policy, registry, catalogue, classifier or OCR change: each gives
exactly the expected diff, redone at the expected depth; decided cases untouched; reviewer edits
kept; an interrupted run resumes to the same diff as an uninterrupted one.

Real OCR (cached by sha256 for the session), real SQLite, the bundled sample applications."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from classifiers.diagnosis import DISEASES_PATH
from intake import rescan, versions
from intake.jobs import WorkerContext
from intake.local import InlineDispatch, prescreen_folder
from intake.models import Application, AuditEvent, Case, RescanItem
from intake.policy import load_policies
from intake.prescreen import Prescreener
from intake.service import latest_case
from intake.settings import POLICIES_DIR, REPO_ROOT, Settings
from intake.versions import current_versions, use_catalogue

SAMPLES = REPO_ROOT / "fixtures" / "samples"
READY = "c01_suihua_ready_diabetes"  # 绥化市, 糖尿病, ready_for_review
LOW_GRADE = "c08_liupanshui_grade_too_low"  # 六盘水市: a 一级 community centre's diagnosis certificate
LOW_GRADE_CERT = "wx_camera_1967177905660.jpg"
LOW_GRADE_LAB = "scan902_0803.jpg"
READY_LAB = "mmexport6305486697990.jpg"
READY_CERT = "scan423_0101.png"
REGISTRY = REPO_ROOT / "fixtures" / "registry" / "hospitals.csv"

pytestmark = pytest.mark.ocr


@pytest.fixture(scope="module")
def base_prescreener(tmp_path_factory: pytest.TempPathFactory) -> Prescreener:
    """Loaded models and an OCR cache shared by the module's tests (each has its own database)."""
    cache = tmp_path_factory.mktemp("ocr-cache") / "cache.db"
    return Prescreener(Settings(db={"url": f"sqlite:///{cache}"}))


def variant(base: Prescreener, *, policies_dir: Path | None = None, registry: Path | None = None,
            catalogue: Path | None = None) -> Prescreener:
    """The same models and OCR cache under other policies, registry or catalogue files."""
    settings = base.settings.model_copy(update={"policies_dir": policies_dir or base.settings.policies_dir})
    prescreener = Prescreener(settings, registry_path=registry)
    prescreener.engine = base.engine
    prescreener.seal_reader = base.seal_reader
    if catalogue is not None:
        use_catalogue(prescreener, catalogue)
    return prescreener


def context(db: Path, prescreener: Prescreener) -> WorkerContext:
    ctx = WorkerContext(Settings(db={"url": f"sqlite:///{db / 'intake.db'}"}, storage={"root": db / "files"}))
    ctx.prescreener = prescreener  # type: ignore[misc]
    ctx.dispatch = InlineDispatch(ctx)  # type: ignore[misc]
    return ctx


def copy_case(tmp: Path, sample: str, case_id: str) -> Path:
    """A sample application under another case id (same files: OCR comes from the cache)."""
    folder = tmp / "backlog" / case_id
    shutil.copytree(SAMPLES / sample, folder)
    data = json.loads((folder / "application.json").read_text("utf-8"))
    (folder / "application.json").write_text(json.dumps({**data, "case_id": case_id}, ensure_ascii=False), "utf-8")
    return folder


@pytest.fixture
def backlog(tmp_path: Path, base_prescreener: Prescreener) -> Iterator[WorkerContext]:
    """Four assessed applications: two of each sample."""
    ctx = context(tmp_path, base_prescreener)
    for sample, case_id in ((READY, "R-1"), (LOW_GRADE, "L-1"), (READY, "R-2"), (LOW_GRADE, "L-2")):
        prescreen_folder(ctx, copy_case(tmp_path, sample, case_id))
    yield ctx


def run(ctx: WorkerContext, *, dry_run: bool = True, selection: rescan.Selection | None = None,
        force_ocr: bool = False, batch_size: int = 50) -> dict[str, Any]:
    with ctx.sessions.begin() as session:
        run_id = rescan.start_run(session, selection or rescan.Selection(), dry_run=dry_run, force_ocr=force_ocr,
                                  actor="test", batch_size=batch_size).id
    return rescan.run_local(ctx, run_id)


def by_case(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["case_id"]: entry for entry in result["changed"]}


def counts(ctx: WorkerContext) -> tuple[int, list[str]]:
    with ctx.sessions() as session:
        cases = session.scalar(select(func.count()).select_from(Case)) or 0
        statuses = list(session.scalars(select(Application.status).order_by(Application.external_ref)))
    return cases, statuses


CONTRACT_KEYS = {"application_id", "case_id", "old_verdict", "new_verdict", "problems_added", "problems_removed",
                 "decided", "redone"}


def test_every_assessment_records_its_versions(backlog: WorkerContext) -> None:
    with backlog.sessions() as session:
        cases = session.scalars(select(Case)).all()
        apps = {a.id: a for a in session.scalars(select(Application))}
    assert len(cases) == 4
    for case in cases:
        expected = current_versions(backlog.prescreener, apps[case.application_id].region).as_dict()
        assert case.versions == expected
        assert set(expected) == {"policy", "registry", "catalogue", "classifier", "ocr"}
        assert all(expected.values())


def test_nothing_changed_nothing_redone(backlog: WorkerContext) -> None:
    result = run(backlog)
    assert (result["selected"], result["unchanged"], result["changed"]) == (4, 4, [])
    assert result["redone"]["none"] == 4


def test_policy_change_gives_exactly_the_stale_lab_report(backlog: WorkerContext, tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES_DIR, policies)
    # 绥化市 now wants lab reports of the last 7 days: the samples' 3-month-old ones are stale.
    text = (policies / "suihua.yaml").read_text("utf-8")
    (policies / "suihua.yaml").write_text(text + "\nrecency_limit_days:\n  lab_report: 7\n", "utf-8")
    assert load_policies(policies).for_region("绥化市").recency_limit_days["lab_report"] == 7
    backlog.prescreener = variant(backlog.prescreener, policies_dir=policies)  # type: ignore[misc]
    before = counts(backlog)

    result = run(backlog)

    assert result["selected"] == 4 and result["unchanged"] == 2
    assert set(by_case(result)) == {"R-1", "R-2"}
    for entry in result["changed"]:
        assert set(entry) >= CONTRACT_KEYS
        assert (entry["old_verdict"], entry["new_verdict"]) == ("ready_for_review", "needs_supplement")
        assert entry["problems_added"] == [f"stale:{READY_LAB}"]
        assert entry["problems_removed"] == [] and entry["redone"] == "assessment" and not entry["decided"]
        assert entry["fields_changed"] == []
    assert result["redone"] == {"none": 2, "assessment": 2, "classification": 0, "ocr": 0}
    assert result["totals"]["verdict"] == 2 and result["totals"]["problems"] == 2
    assert len(result["versions"]["before"]["policy"]) == 2 and result["versions"]["before"] != result["versions"][
        "after"]
    assert counts(backlog) == before  # a dry run changes nothing


def test_registry_change_applied_keeps_the_old_case(backlog: WorkerContext, tmp_path: Path) -> None:
    backlog.prescreener = variant(backlog.prescreener, registry=upgraded_registry(tmp_path))  # type: ignore[misc]

    result = run(backlog, dry_run=False)

    assert set(by_case(result)) == {"L-1", "L-2"}
    for entry in result["changed"]:
        assert (entry["old_verdict"], entry["new_verdict"]) == ("needs_supplement", "ready_for_review")
        assert entry["problems_removed"] == [f"grade_too_low:{LOW_GRADE_CERT}"]
        assert entry["problems_added"] == [] and entry["redone"] == "assessment" and entry["applied"]
    assert result["redone"]["assessment"] == 4 and result["unchanged"] == 2
    with backlog.sessions() as session:
        app = session.scalars(select(Application).where(Application.external_ref == "L-1")).one()
        cases = session.scalars(select(Case).where(Case.application_id == app.id).order_by(Case.revision)).all()
        assert [(c.revision, c.verdict) for c in cases] == [(0, "needs_supplement"), (1, "ready_for_review")]
        assert cases[0].superseded_by == cases[1].id and cases[1].superseded_by is None
        assert latest_case(session, app).id == cases[1].id  # type: ignore[union-attr]
        assert app.status == "ready_for_review"
        assert cases[1].versions == current_versions(backlog.prescreener, app.region).as_dict()
        events = session.scalars(select(AuditEvent).where(AuditEvent.application_id == app.id,
                                                          AuditEvent.action == "application.rescanned")).all()
        assert len(events) == 1 and events[0].detail["problems_removed"] == [f"grade_too_low:{LOW_GRADE_CERT}"]
    # Applied: a second run finds nothing left to change.
    again = run(backlog)
    assert again["changed"] == [] and again["redone"]["none"] == 2


def test_catalogue_change(backlog: WorkerContext, tmp_path: Path) -> None:
    catalogue = tmp_path / "diseases.yaml"
    # A new 病种 of its own for type 2 diabetes (E11), which the 糖尿病 entry no longer covers: the
    # certificate's II型糖尿病 is now another condition than the 糖尿病 claimed. Its wording is one
    # glyph from 2型糖尿病, so the mismatch is a reviewer flag, not a problem for the applicant.
    terms = ("terms: [糖尿病, 2型糖尿病, 1型糖尿病, II型糖尿病, Ⅱ型糖尿病, 糖尿病肾病, 糖尿病周围神经病变, "
             "糖尿病视网膜病变, 妊娠期糖尿病]")
    text = DISEASES_PATH.read_text("utf-8")
    assert terms in text and "icd10: [E10-E14]" in text
    text = text.replace(terms, "terms: [糖尿病, 2型糖尿病, 1型糖尿病, 糖尿病肾病]").replace(
        "icd10: [E10-E14]", "icd10: [E10, E12-E14]").replace(
        "  - name: 糖尿病\n", "  - name: 2型糖尿病专病\n    icd10: [E11]\n    terms: [II型糖尿病, Ⅱ型糖尿病]\n"
        "  - name: 糖尿病\n", 1)
    catalogue.write_text(text, "utf-8")
    backlog.prescreener = variant(backlog.prescreener, catalogue=catalogue)  # type: ignore[misc]
    assert versions.catalogue_path(backlog.prescreener) == catalogue

    result = run(backlog)

    assert result["redone"]["assessment"] == 4
    changed = by_case(result)
    assert set(changed) == {"R-1", "R-2"}, result["changed"]
    for entry in changed.values():
        assert entry["redone"] == "assessment" and entry["kinds"] == ["review_flags"]
        assert entry["old_verdict"] == entry["new_verdict"] == "ready_for_review"
        assert entry["flags_added"] == [f"diagnosis_mismatch:{READY_CERT}"], entry
        assert entry["problems_added"] == entry["problems_removed"] == entry["flags_removed"] == []


def test_ocr_fingerprint_change_reads_again(backlog: WorkerContext, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = backlog.prescreener.engine
    monkeypatch.setattr(engine, "fingerprint", engine.fingerprint + "|test-models-2")

    result = run(backlog, selection=rescan.Selection(ids=("R-1",)))

    assert result["selected"] == 1 and result["redone"]["ocr"] == 1
    assert result["changed"] == [] and result["unchanged"] == 1  # the same models read the same text
    assert result["versions"]["after"]["ocr"] != result["versions"]["before"]["ocr"]
    with backlog.prescreener.sessions() as session:
        from intake.models import OcrCacheEntry

        assert session.scalar(select(func.count()).select_from(OcrCacheEntry).where(
            OcrCacheEntry.fingerprint == backlog.prescreener.fingerprint)) == 4  # each file read once more


def test_classifier_change_reclassifies_from_the_cache(backlog: WorkerContext,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(versions, "CLASSIFIER_VERSION", "test-next")
    result = run(backlog, selection=rescan.Selection(regions=("六盘水市",)))
    assert result["selected"] == 2 and result["redone"]["classification"] == 2
    assert result["changed"] == []


def _reviewer(session: Any) -> Any:
    from intake.users import add_user

    return add_user(session, username="reviewer-1", display_name="审核员", role="reviewer", regions=["六盘水市"],
                    password="a long enough password 1", actor="test")


def _decide(ctx: WorkerContext, case_id: str) -> None:
    """A reviewer rejects the application, through the reviewer workspace."""
    from intake.workspace.claims import claim
    from intake.workspace.decisions import Decision, decide

    with ctx.sessions.begin() as session:
        app = session.scalars(select(Application).where(Application.external_ref == case_id)).one()
        user = _reviewer(session)
        claim(session, app, user)
        decide(session, app, user, Decision.REJECT, reasons=["incomplete"])


def _edit(ctx: WorkerContext, case_id: str, file: str, field: str, value: str) -> None:
    """A reviewer corrects a field, through the reviewer workspace (re-assessed at once)."""
    from intake.models import User
    from intake.workspace.claims import claim
    from intake.workspace.edits import correct_field

    with ctx.sessions.begin() as session:
        app = session.scalars(select(Application).where(Application.external_ref == case_id)).one()
        user = session.scalars(select(User)).first() or _reviewer(session)
        claim(session, app, user)
        doc = next(d for d in app.documents if d.filename == file)
        correct_field(session, app, user, doc.id, field, value, reason="test")


def edited_case_problems(ctx: WorkerContext, case_id: str) -> list[str]:
    with ctx.sessions() as session:
        app = session.scalars(select(Application).where(Application.external_ref == case_id)).one()
        return list(latest_case(session, app).problems)  # type: ignore[union-attr]


def upgraded_registry(tmp_path: Path) -> Path:
    """A registry copy where L's community centre is now a 二级甲等 hospital."""
    registry = tmp_path / "hospitals.csv"
    text = REGISTRY.read_text("utf-8")
    upgraded = text.replace(",荷泉社区卫生服务中心,一级", ",荷泉社区卫生服务中心,二级甲等")
    assert upgraded != text
    registry.write_text(upgraded, "utf-8")
    return registry


def test_decided_case_untouched_and_reviewer_edit_kept(backlog: WorkerContext, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _decide(backlog, "L-1")
    # A reviewer corrected the date of L-2's lab report: it is from 2020, long stale.
    _edit(backlog, "L-2", LOW_GRADE_LAB, "doc_date", "2020-01-01")
    backlog.prescreener = variant(backlog.prescreener, registry=upgraded_registry(tmp_path))  # type: ignore[misc]
    monkeypatch.setattr(versions, "CLASSIFIER_VERSION", "test-next")  # and a new extraction is made
    before = counts(backlog)

    result = run(backlog, dry_run=False, selection=rescan.Selection(regions=("六盘水市",)))

    changed = by_case(result)
    decided = changed["L-1"]
    assert decided["decided"] and decided["decision"] == "rejected" and not decided["applied"]
    assert decided["old_verdict"] == "needs_supplement"
    assert decided["problems_removed"] == [f"grade_too_low:{LOW_GRADE_CERT}"]  # reported for information
    assert decided["new_verdict"] == "ready_for_review"
    edited = changed["L-2"]
    assert not edited["decided"] and edited["applied"] and edited["redone"] == "classification"
    assert edited["problems_removed"] == [f"grade_too_low:{LOW_GRADE_CERT}"]
    assert edited["old_verdict"] == edited["new_verdict"] == "needs_supplement"
    # The edit wins over the new extraction: the lab report stays stale (since the edit's re-assessment).
    assert edited["problems_added"] == [] and f"stale:{LOW_GRADE_LAB}" in edited_case_problems(backlog, "L-2")
    conflict = [c for c in edited["edit_conflicts"] if c["field"] == "doc_date"]
    assert len(conflict) == 1 and conflict[0]["edited"] == "2020-01-01" and conflict[0]["file"] == LOW_GRADE_LAB
    assert conflict[0]["extracted"] not in (None, "2020-01-01")
    cases, _ = counts(backlog)
    assert cases == before[0] + 1  # only L-2 got a new case
    with backlog.sessions() as session:
        l1 = session.scalars(select(Application).where(Application.external_ref == "L-1")).one()
        assert l1.status == "rejected" and latest_case(session, l1).revision == 0  # type: ignore[union-attr]
        l2 = session.scalars(select(Application).where(Application.external_ref == "L-2")).one()
        report = latest_case(session, l2).report  # type: ignore[union-attr]
        lab = next(d for d in report["documents"] if d["file"] == LOW_GRADE_LAB)
        assert lab["fields"]["doc_date"] == "2020-01-01" and lab["checks"]["recency"]["outcome"] == "fail"


def _comparable(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted((e["case_id"], e["old_verdict"], e["new_verdict"], tuple(e["problems_added"]),
                   tuple(e["problems_removed"]), e["redone"], e["decided"]) for e in result["changed"])


def test_interrupted_run_resumes_to_the_same_diff(backlog: WorkerContext, tmp_path: Path) -> None:
    backlog.prescreener = variant(backlog.prescreener, registry=upgraded_registry(tmp_path))  # type: ignore[misc]
    uninterrupted = run(backlog)

    with backlog.sessions.begin() as session:
        run_id = rescan.start_run(session, rescan.Selection(), dry_run=False, actor="test", batch_size=2).id
    # The first batch done, then the process dies holding the first item of the second batch.
    assert rescan.run_batch(backlog, run_id, 0) == "done"
    with backlog.sessions.begin() as session:
        item = session.scalars(select(RescanItem).where(RescanItem.run_id == run_id, RescanItem.batch == 1)
                               .order_by(RescanItem.position)).first()
        assert item is not None
        item.state, item.worker = "running", "worker:gone-host-never-seen:1"
        from intake.models import utcnow

        item.claimed_at = utcnow().replace(year=2020)  # long past the processing timeout
    with backlog.sessions() as session:
        assert rescan.progress(session, run_id).done == 2
    resumed = rescan.run_local(backlog, run_id)

    assert resumed["done"] == resumed["total"] == 4 and resumed["status"] == "done"
    assert _comparable(resumed) == _comparable(uninterrupted)
    with backlog.sessions() as session:
        events = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "application.rescanned")) or 0
    assert events == 2  # each changed application once, not again on the resume


def test_an_edited_document_is_checked_against_the_rescans_registry(backlog: WorkerContext, tmp_path: Path) -> None:
    # A reviewer corrects the department on L-2's certificate: its checks run again, against the
    # registry of the time (the centre is 一级: grade_too_low stays).
    _edit(backlog, "L-2", LOW_GRADE_CERT, "department", "全科")
    assert f"grade_too_low:{LOW_GRADE_CERT}" in edited_case_problems(backlog, "L-2")
    # The re-scan's registry upgrades the centre: the edited certificate is checked against it too.
    backlog.prescreener = variant(backlog.prescreener, registry=upgraded_registry(tmp_path))  # type: ignore[misc]

    result = run(backlog, selection=rescan.Selection(regions=("六盘水市",)))

    changed = by_case(result)
    assert set(changed) == {"L-1", "L-2"}, result["changed"]
    for entry in changed.values():
        assert entry["problems_removed"] == [f"grade_too_low:{LOW_GRADE_CERT}"] and entry["problems_added"] == []
        assert (entry["old_verdict"], entry["new_verdict"]) == ("needs_supplement", "ready_for_review")
        assert entry["redone"] == "assessment"


def _supplement(ctx: WorkerContext, case_id: str, file: Path) -> None:
    """The app uploads one more document (补正) and submits the application again; the workers
    read and assess the new round."""
    from intake.local import run_inline
    from intake.service import add_document, submit

    data = file.read_bytes()
    sha256 = ctx.files.put(data)
    with ctx.sessions.begin() as session:
        app = session.scalars(select(Application).where(Application.external_ref == case_id)).one()
        add_document(session, app=app, actor="test", filename=f"补正-{file.name}", sha256=sha256, size=len(data),
                     media_type=None, max_files=40)
        submit(session, app=app, actor="test")
        app_id = app.id
    run_inline(ctx, app_id)


def test_every_path_that_makes_a_case_records_its_versions(backlog: WorkerContext, tmp_path: Path) -> None:
    """First assessments (the jobs, as ``intake prescreen`` and the demo run them), a reviewer's
    re-assessment after an edit, a reviewer's request for 补正, the 补正 round, a re-scan: every
    case they make records the five versions it was made with."""
    from intake.settings import get_settings
    from intake.workspace.decisions import Decision, decide

    _edit(backlog, "R-1", READY_CERT, "department", "内分泌科")  # a reviewer's re-assessment
    with backlog.sessions.begin() as session:  # a reviewer's request for 补正 (a case revision) …
        app = session.scalars(select(Application).where(Application.external_ref == "R-2")).one()
        from intake.models import User

        decide(session, app, session.scalars(select(User)).one(), Decision.REQUEST_SUPPLEMENT, notice="请补充检查报告")
    _supplement(backlog, "R-2", SAMPLES / LOW_GRADE / LOW_GRADE_LAB)  # … and the 补正 round it asked for
    _supplement(backlog, "L-1", SAMPLES / READY / READY_LAB)  # a 补正 after a needs_supplement verdict
    default = backlog.prescreener
    backlog.prescreener = variant(default, registry=upgraded_registry(tmp_path))  # type: ignore[misc]
    assert run(backlog, dry_run=False, selection=rescan.Selection(ids=("L-2",)))["changed"][0]["applied"]

    with backlog.sessions() as session:
        cases = session.scalars(select(Case).order_by(Case.id)).all()
        apps = {a.id: a for a in session.scalars(select(Application))}
        made = {(apps[c.application_id].external_ref, c.round, c.revision): c.versions for c in cases}
    assert set(made) == {("R-1", 1, 0), ("R-1", 1, 1), ("R-2", 1, 0), ("R-2", 1, 1), ("R-2", 2, 0),
                         ("L-1", 1, 0), ("L-1", 2, 0), ("L-2", 1, 0), ("L-2", 1, 1)}
    for key, recorded in made.items():
        assert recorded is not None and set(recorded) == set(versions.PARTS) and all(recorded.values()), key
    # Each records what it was made with: the re-scan its registry, the others the default one.
    upgraded = current_versions(backlog.prescreener, "六盘水市").as_dict()
    assert made[("L-2", 1, 1)] == upgraded
    for key in made.keys() - {("L-2", 1, 1)}:
        region = "六盘水市" if key[0].startswith("L") else "绥化市"
        assert made[key] == current_versions(default, region).as_dict(), key
    assert made[("R-1", 1, 1)]["registry"] == versions.file_hash(get_settings().registry_path)


UNSIGNED = "c20_liupanshui_unsigned_record"  # 六盘水市: an outpatient record nobody signed
UNSIGNED_RECORD = "门诊病历.jpg"


def with_policy(ctx: WorkerContext, tmp_path: Path, file: str, added: str) -> None:
    """The context's prescreener under the shipped policies with ``added`` appended to ``file``."""
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES_DIR, policies, dirs_exist_ok=True)
    text = (POLICIES_DIR / file).read_text("utf-8")
    (policies / file).write_text(text + "\n" + added + "\n", "utf-8")
    ctx.prescreener = variant(ctx.prescreener, policies_dir=policies)  # type: ignore[misc]


@pytest.fixture
def signed_backlog(tmp_path: Path, base_prescreener: Prescreener) -> Iterator[WorkerContext]:
    """六盘水's unsigned record (its case: needs_supplement for signature_missing) and 绥化's ready case."""
    ctx = context(tmp_path, base_prescreener)
    for sample, case_id in ((UNSIGNED, "U-1"), (READY, "R-1")):
        prescreen_folder(ctx, copy_case(tmp_path, sample, case_id))
    with ctx.sessions() as session:
        assert latest_case(session, session.scalars(select(Application).where(
            Application.external_ref == "U-1")).one()).report["problems"] == [f"signature_missing:{UNSIGNED_RECORD}"]
    yield ctx


def test_a_policy_change_keeps_the_signature_check_it_does_not_touch(signed_backlog: WorkerContext,
                                                                      tmp_path: Path) -> None:
    """A change to 六盘水's recency limits re-runs the policy's checks on the stored fields: the
    unsigned record's signature_missing stays (it was dropped with the other checks before)."""
    with_policy(signed_backlog, tmp_path, "liupanshui.yaml", "recency_limit_days:\n  lab_report: 7")
    entry = by_case(run(signed_backlog, selection=rescan.Selection(ids=("U-1",))))["U-1"]
    assert entry["redone"] == "assessment" and entry["problems_removed"] == []
    assert entry["problems_added"] and all(p.startswith("stale:") for p in entry["problems_added"])


def test_a_signature_no_longer_required_is_lifted_without_reading_again(signed_backlog: WorkerContext,
                                                                       tmp_path: Path) -> None:
    with_policy(signed_backlog, tmp_path, "liupanshui.yaml", "signature_required: []")
    entry = by_case(run(signed_backlog, selection=rescan.Selection(ids=("U-1",))))["U-1"]
    assert entry["problems_removed"] == [f"signature_missing:{UNSIGNED_RECORD}"]
    assert entry["redone"] == "assessment" and entry["new_verdict"] == "ready_for_review"


def test_a_signature_newly_required_is_read_from_the_cached_pages(signed_backlog: WorkerContext,
                                                                  tmp_path: Path) -> None:
    """绥化 now requiring a signature on discharge summaries: no stored check says whether one is
    signed, so the documents are analysed again from the OCR cache (classification depth)."""
    with_policy(signed_backlog, tmp_path, "suihua.yaml", "signature_required: [discharge_summary]")
    result = run(signed_backlog, selection=rescan.Selection(ids=("R-1",)))
    assert result["redone"]["classification"] == 1 and result["redone"]["ocr"] == 0
