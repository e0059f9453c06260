"""The store keeps OCR results by (sha256, fingerprint) and every report, on SQLite by default."""

from pathlib import Path

from fastapi.testclient import TestClient

from api.app import app
from api.deps import current_settings, hash_key
from intake.models import Channel, PrescreenReport
from intake.service import case_report_by_reference
from intake.settings import Settings
from intake.store import get_cached_ocr, put_cached_ocr, session_factory


def test_ocr_cache_round_trip_and_overwrite(tmp_path: Path) -> None:
    sessions = session_factory(f"sqlite:///{tmp_path / 'a.db'}")
    with sessions.begin() as s:
        put_cached_ocr(s, sha256="ab", fingerprint="fp1", media_type="image/png", result={"pages": []}, seal=None)
    with sessions.begin() as s:
        put_cached_ocr(s, sha256="ab", fingerprint="fp1", media_type="image/png", result={"pages": [1]}, seal={})
    with sessions() as s:
        entry = get_cached_ocr(s, sha256="ab", fingerprint="fp1")
        assert entry is not None and entry.result == {"pages": [1]} and entry.seal == {}
        assert get_cached_ocr(s, sha256="ab", fingerprint="other-models") is None


def test_reports_stored_by_the_command_line_before_it_stored_applications_are_still_served(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    sessions = session_factory(url)
    with sessions.begin() as s:
        for verdict in ("needs_supplement", "ready_for_review"):
            report = {"case_id": "C1", "verdict": verdict, "problems": []}
            s.add(PrescreenReport(case_id="C1", verdict=verdict, problems=[], report=report, source="d"))
    with sessions() as s:
        found = case_report_by_reference(s, "C1")
        assert found is not None and found["verdict"] == "ready_for_review"
    with sessions.begin() as s:
        s.add(Channel(id="rev", name="rev", role="reviewer", api_key_sha256=hash_key("rev-key"), callback_secret="x"))
        s.add(Channel(id="app", name="app", role="app", api_key_sha256=hash_key("app-key"), callback_secret="x"))
    app.dependency_overrides[current_settings] = lambda: Settings(db={"url": url})
    try:
        client = TestClient(app)
        reviewer = {"X-API-Key": "rev-key"}
        assert client.get("/v1/cases/C1/report", headers=reviewer).json()["verdict"] == "ready_for_review"
        missing = client.get("/v1/cases/nope/report", headers=reviewer)
        assert missing.status_code == 404 and "nope" in missing.json()["detail"]
        assert client.get("/v1/cases/C1/report").status_code == 401
        assert client.get("/v1/cases/C1/report", headers={"X-API-Key": "app-key"}).status_code == 403
    finally:
        app.dependency_overrides.clear()


def test_a_document_whose_enqueue_failed_goes_back_to_received_unless_a_worker_has_it(tmp_path: Path) -> None:
    import datetime as dt

    from intake.application import Application as ApplicationData
    from intake.lifecycle import unmark_queued
    from intake.models import ChannelRef, Document
    from intake.service import add_document, create_application

    sessions = session_factory(f"sqlite:///{tmp_path / 'c.db'}")
    channel: ChannelRef = Channel(id="app", name="app", role="app", api_key_sha256="x" * 64, callback_secret="s")
    data = ApplicationData(applicant_name="张三", id_number="230102195703152419", disease="糖尿病",
                           application_date=dt.date(2026, 3, 5))
    with sessions.begin() as s:
        s.add(channel)
        s.flush()
        app = create_application(s, channel=channel, data=data, external_ref=None, callback_url=None)
        ids = [add_document(s, app=app, actor="app", filename=f"{n}.png", sha256=f"{n:064x}", size=1,
                            media_type="image/png", max_files=10, queued=True).document.id for n in (1, 2)]
    with sessions.begin() as s:
        assert [s.get_one(Document, i).status for i in ids] == ["queued", "queued"]
        s.get_one(Document, ids[1]).status = "processing"  # a reconciler re-sent it and a worker took it
    with sessions.begin() as s:
        unmark_queued(s, ids)
    with sessions() as s:
        first, second = (s.get_one(Document, i) for i in ids)
        assert (first.status, first.queued_at) == ("received", None)
        assert second.status == "processing"
