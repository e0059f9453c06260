"""The reviewers' pages over PostgreSQL (a fresh database, ``tests.services.fresh_postgres_database``),
as deployments run them: sign in, the queue, claim, the case page with its page image and the
boxes over it, an edit that re-assesses. The rest of the browser tests run over SQLite
(``tests/web/conftest.py``); this module serves the app over its own database meanwhile.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from intake.models import Document
from intake.workspace.masking import mask_name
from tests.api.test_workspace_auth import make_user
from tests.api.test_workspace_cases import assessed
from tests.services import fresh_postgres_database
from tests.web.conftest import C01, Web, chromium_path, serving, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.ocr, pytest.mark.postgres]


@pytest.fixture(scope="module")
def pg_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Web, str]]:
    chromium_path()  # no browser: skip (fail in CI) before seconds of OCR
    root = tmp_path_factory.mktemp("web-pg")
    with fresh_postgres_database() as url, serving(url, root, callbacks=False) as (web, _):
        assert web.service.settings.db.url.startswith("postgresql")
        case = assessed(web.service, C01)
        make_user(web.service, "pg-reviewer", name="周洁", regions=("绥化市",))
        yield web, case


@pytest.fixture
def pg_reviewer(browser: object, pg_web: tuple[Web, str]) -> Iterator[Page]:
    page = sign_in(browser, pg_web[0], "pg-reviewer")
    yield page
    page.context.close()


def test_sign_in_queue_and_case_page_over_postgresql(pg_web: tuple[Web, str], pg_reviewer: Page) -> None:
    web, case = pg_web
    page = pg_reviewer
    person = json.loads((Path(C01) / "application.json").read_text("utf-8"))
    row = page.locator(f'tr.case-row[data-id="{case}"]')
    expect(row).to_contain_text(mask_name(person["applicant_name"]))
    expect(page.locator("#queue-total")).to_have_text("1")
    row.locator("button:has-text('认领')").click()
    expect(page.locator(".flash-ok")).to_contain_text("已认领")
    expect(page.locator(f'tr.case-row[data-id="{case}"] .claimer')).to_have_text("周洁")

    page.locator(f'tr.case-row[data-id="{case}"] a.open').click()
    page.wait_for_url(f"**/review/cases/{case}")
    expect(page.locator("#applicant-name")).to_have_text(person["applicant_name"])
    expect(page.locator("#case-verdict")).to_have_text("材料齐全")
    with web.service.sessions()() as session:
        doc = next(d for d in session.scalars(select(Document).where(Document.application_id == case))
                   if d.report and d.report["doc_type"] == "diagnosis_certificate")
    article = page.locator(f"article#doc-{doc.id}")
    img = article.locator("figure.page[data-page='0'] img")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    shown, box = img.bounding_box(), article.locator("rect[data-key='field:patient_name']").bounding_box()
    assert shown and box
    assert shown["x"] <= box["x"] and box["x"] + box["width"] <= shown["x"] + shown["width"] + 1
    assert shown["y"] <= box["y"] and box["y"] + box["height"] <= shown["y"] + shown["height"] + 1
    expect(article.locator("input[name=patient_name]")).to_have_value(person["applicant_name"])

    # An edit re-assesses the case in PostgreSQL too.
    article.locator("input[name=department]").fill("内分泌代谢科")
    article.locator("form.fields button[type=submit]").click()
    expect(page.locator(".flash-ok")).to_contain_text("重新评估")
    expect(page.locator(f"article#doc-{doc.id} input[name=department]")).to_have_value("内分泌代谢科")
    expect(page.locator(f"article#doc-{doc.id} tr[data-key='field:department'] td.conf")).to_contain_text("100%")
