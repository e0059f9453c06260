"""Bad uploads never hurt the service or the application they arrive in.

Every file of ``tests/api/badinputs.py`` (≥ 25: empty, truncated, encrypted, bombs, lying names,
HEIC, CMYK, …) is uploaded to its own application beside one good document (a separate request).
Each must either be refused at once with a 4xx, a file-level code and a Chinese message, or be
accepted and end, after a real burst worker, as ``failed`` with a reason (or ``done`` where it is a
valid file). The service answers /healthz after every upload and the good document of every
application is read as usual, so each application still reaches a verdict.

Run with ``-s`` to see the table of outcomes. OCR cost is small: the good document has a text layer,
and the few valid images are tiny.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from intake.models import Case, Document
from tests.api.badinputs import APPLICATION, DONE, FAILED, REFUSED, BadInput, corpus, good_pdf
from tests.api.conftest import Service
from tests.api.faultproxy import service_on_private_redis

pytestmark = [pytest.mark.redis, pytest.mark.ocr]

_CHINESE = re.compile(r"[\u4e00-\u9fff]")
_PRIVATE_USE = re.compile(r"[\ue000-\uf8ff]")


@pytest.fixture(scope="module", autouse=True)
def _private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with service_on_private_redis(tmp_path_factory.mktemp("redis")):
        yield


def _upload(service: Service, app_id: str, name: str, data: bytes):  # type: ignore[no-untyped-def]
    return service.client.post(f"/v1/applications/{app_id}/documents", files=[("files", (name, data))],
                               headers=service.headers("app-a"))


def _healthy(service: Service) -> bool:
    response = service.client.get("/healthz")
    return response.status_code == 200 and response.json() == {"status": "ok"}


def _check_refusal(item: BadInput, response) -> list[str]:  # type: ignore[no-untyped-def]
    problems = []
    body = response.json()
    if not 400 <= response.status_code < 500:
        problems.append(f"status {response.status_code} is not a 4xx")
    if item.http and response.status_code not in item.http:
        problems.append(f"status {response.status_code}, expected one of {sorted(item.http)}")
    files = body.get("files") or []
    if len(files) != 1 or files[0].get("file") != item.name:
        problems.append(f"the refusal does not name the file: {body}")
        return problems
    problem = files[0]
    if not problem.get("code"):
        problems.append("no file-level code")
    elif item.code and problem["code"] != item.code:
        problems.append(f"code {problem['code']!r}, expected {item.code!r}")
    if not _CHINESE.search(problem.get("message", "")):
        problems.append(f"message is not Chinese: {problem.get('message')!r}")
    return problems


def _check_document(item: BadInput, doc: Document) -> list[str]:
    problems = []
    if doc.status not in item.outcomes:
        problems.append(f"ended {doc.status} ({doc.error_code}: {doc.error}), expected {sorted(item.outcomes)}")
    if doc.status == FAILED:
        if not (doc.error or "").strip():
            problems.append("failed without a reason")
        elif not _CHINESE.search(doc.error or ""):
            problems.append(f"the reason is not Chinese: {doc.error!r}")
        if not doc.error_code:
            problems.append("failed without an error code")
        elif item.code and doc.error_code != item.code:
            problems.append(f"error code {doc.error_code!r}, expected {item.code!r}")
        if doc.error_code == "internal":
            problems.append(f"an internal error (a crash), not a clear reason: {doc.error}")
    if doc.status == DONE and item.media_type and doc.media_type != item.media_type:
        problems.append(f"read as {doc.media_type}, expected {item.media_type}")
    if doc.status == DONE and _PRIVATE_USE.search((doc.report or {}).get("text", "")):
        problems.append("private-use (unmapped glyph) characters were taken as the document's text")
    if doc.attempts != 1:
        problems.append(f"attempts {doc.attempts}, expected 1")
    return problems


def test_bad_inputs_are_refused_or_fail_clearly_and_never_hurt_the_application(service: Service) -> None:
    items = corpus()
    assert len(items) >= 25
    uploads: dict[str, tuple[str, int, dict]] = {}  # name -> (application id, status code, body)
    good_ids: dict[str, str] = {}  # name -> the good document's id in its application
    failures: dict[str, list[str]] = {}

    for n, item in enumerate(items):
        created = service.client.post("/v1/applications", json={**APPLICATION, "external_ref": f"BAD-{n:02d}"},
                                      headers=service.headers("app-a"))
        assert created.status_code == 201, created.text
        app_id = created.json()["id"]
        good = _upload(service, app_id, "门诊病历.pdf", good_pdf(f"#{n}"))
        assert good.status_code == 201, good.text
        good_ids[item.name] = good.json()["documents"][0]["id"]

        response = _upload(service, app_id, item.name, item.data)
        uploads[item.name] = (app_id, response.status_code, response.json())
        problems = failures.setdefault(item.name, [])
        if not _healthy(service):
            problems.append("the service stopped answering /healthz after this upload")
        if response.status_code == 201:
            if REFUSED in item.outcomes and len(item.outcomes) == 1:
                problems.append("accepted, but must be refused at upload")
        elif REFUSED not in item.outcomes:
            problems.append(f"refused ({response.status_code} {response.text[:200]}), but must be accepted")
        else:
            problems.extend(_check_refusal(item, response))
        submitted = service.client.post(f"/v1/applications/{app_id}/submit", headers=service.headers("app-a"))
        assert submitted.status_code == 202, submitted.text

    service.work()
    assert _healthy(service)

    rows = []
    with service.sessions()() as session:
        for item in items:
            app_id, code, body = uploads[item.name]
            problems = failures[item.name]
            good = session.get(Document, good_ids[item.name])
            assert good is not None
            if good.status != DONE:
                problems.append(f"the good document of the application ended {good.status}: {good.error}")
            cases = session.scalar(select(func.count()).select_from(Case).where(Case.application_id == app_id))
            if cases != 1:
                problems.append(f"{cases} cases for the application, expected 1")
            final, error_code = "-", (body.get("files") or [{}])[0].get("code", "") if code != 201 else ""
            if code == 201:
                doc = session.get(Document, body["documents"][0]["id"])
                assert doc is not None
                final, error_code = doc.status, doc.error_code or ""
                problems.extend(_check_document(item, doc))
            rows.append((item.name, code, final, error_code, "; ".join(problems) or "ok"))

    _print_table(rows)
    wrong = {name: problems for name, problems in failures.items() if problems}
    assert not wrong, "\n".join(f"{name}: {'; '.join(p)}" for name, p in wrong.items())


def _print_table(rows: list[tuple[str, int, str, str, str]]) -> None:
    header = ("file", "upload", "document", "code", "verdict of the test")
    widths = [max(_width(str(r[i])) for r in [header, *rows]) for i in range(4)]
    print()
    for row in [header, *rows]:
        cells = [str(c) + " " * (w - _width(str(c))) for c, w in zip(row[:4], widths, strict=True)]
        print("  ".join(cells), " ", row[4])


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if "\u2e80" <= ch <= "\uffff" else 1 for ch in text)


def test_corpus_is_built_in_code_and_small() -> None:
    """The corpus has the files the brief names and stays small (nothing big is committed)."""
    items = corpus()
    names = {i.name for i in items}
    assert len(items) == len(names) >= 25
    assert sum(len(i.data) for i in items) < 2 * 1024 * 1024
    assert {"IMG_0001.HEIC", "cmyk.jpg", "three_pages.tiff", "really_a_pdf.jpg"} <= names
    assert Path(__file__).with_name("badinputs.py").stat().st_size < 64 * 1024
