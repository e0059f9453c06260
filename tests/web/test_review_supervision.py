"""What a supervisor and a reviewer still missed (issue 12 follow-up), in headless chromium over
cases really processed: a supervisor reassigns a claimed case from the queue and from the case page
(a reviewer cannot); the 复杂病例 toggle moves the deadline shown (绥化市: 5 working days, not 3);
the JSON case view gives each document's pages (size, image URL) for a province's own front end;
the page-image disk cache stays under its cap; the history reads in words, not codes; the case page
reads the OCR results of all its documents in a constant number of queries.

The cases here are new C01 applications (read from the OCR cache of the session's first ones).
"""

from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from intake import clock
from intake.models import Application, Document, OcrCacheEntry, User
from intake.service import round_submitted_at
from intake.workspace import claims
from intake.workspace.access import current_case
from intake.workspace.overlay import policies
from intake.workspace.page_images import trim_cache
from tests.api.test_workspace_auth import make_user
from tests.api.test_workspace_cases import assessed
from tests.web.conftest import C01, Web, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.ocr]


@pytest.fixture(scope="module")
def staff(web: Web) -> dict[str, str]:
    """A supervisor and a second reviewer of 绥化市 (the session's reviewer is 王丽, "suihua")."""
    make_user(web.service, "chief", role="supervisor", name="陈主任", regions=("绥化市",))
    make_user(web.service, "sunlei", name="孙磊", regions=("绥化市",))
    return {"supervisor": "chief", "reviewer": "sunlei"}


@pytest.fixture
def supervisor(browser: object, web: Web, staff: dict[str, str]) -> Iterator[Page]:
    page = sign_in(browser, web, staff["supervisor"])
    yield page
    page.context.close()


def row(page: Page, application_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f'tr.case-row[data-id="{application_id}"]')


def holder_of(web: Web, application_id: str) -> str | None:
    with web.service.sessions()() as session:
        held = claims.holder(session, session.get_one(Application, application_id))
        return held[1].username if held else None


def test_a_supervisor_reassigns_a_claimed_case_from_the_queue_and_the_case_page(
        web: Web, supervisor: Page, reviewer: Page, staff: dict[str, str]) -> None:
    case = assessed(web.service, C01, external_ref="reassign-me")
    reviewer.reload()
    row(reviewer, case).locator("button:has-text('认领')").click()  # 王丽 holds it
    expect(row(reviewer, case).locator(".claimer")).to_have_text("王丽")
    # A reviewer has no reassign control, in the queue or on the case page …
    expect(row(reviewer, case).locator("form.reassign")).to_have_count(0)
    reviewer.goto(f"/review/cases/{case}")
    expect(reviewer.locator("#reassign-form")).to_have_count(0)

    # … a supervisor has, and gives the case to 孙磊 from the queue.
    supervisor.reload()
    form = row(supervisor, case).locator("form.reassign")
    expect(form.locator("option")).to_contain_text(["改派给…", "孙磊"])
    form.locator("select").select_option(staff["reviewer"])
    form.locator("button").click()
    expect(supervisor.locator(".flash-ok")).to_contain_text("改派给孙磊")
    assert "/review/queue" in supervisor.url  # back where it was done
    expect(row(supervisor, case).locator(".claimer")).to_have_text("孙磊")
    assert holder_of(web, case) == staff["reviewer"]

    # From the case page, back to 王丽; the holder is not offered to themselves.
    supervisor.goto(f"/review/cases/{case}")
    select = supervisor.locator("#reassign-form select")
    expect(select.locator("option", has_text="孙磊")).to_have_count(0)
    select.select_option("suihua")
    supervisor.click("#reassign-form button")
    expect(supervisor.locator(".flash-ok")).to_contain_text("改派给王丽")
    expect(supervisor.locator("#case-claim")).to_contain_text("王丽")
    assert holder_of(web, case) == "suihua"
    supervisor.locator("details.audit summary").click()
    expect(supervisor.locator("#audit")).to_contain_text("原认领人：sunlei；改派给：suihua")

    # A reviewer's own POST of the form is refused, the claim unchanged.
    reviewer.evaluate("""([id, token]) => {
        const f = document.createElement('form'); f.method = 'post'; f.action = `/review/cases/${id}/reassign`;
        for (const [k, v] of [['csrftoken', token], ['username', 'sunlei']]) {
            const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i); }
        document.body.appendChild(f); f.submit(); }""",
                      [case, reviewer.locator("input[name=csrftoken]").first.get_attribute("value")])
    expect(reviewer.locator(".flash-error")).to_contain_text("负责人")
    assert holder_of(web, case) == "suihua"


def test_the_complex_case_toggle_moves_the_deadline_shown(web: Web, reviewer: Page) -> None:
    case = assessed(web.service, C01, external_ref="complex-me")
    with web.service.sessions()() as session:
        app = session.get_one(Application, case)
        submitted = clock.local_date(round_submitted_at(app))
        policy = policies().for_region(app.region)
        plain = policy.review_deadline(submitted).date
        longer = policy.review_deadline(submitted, complex_case=True).date
    assert longer > plain  # 绥化市: 5 working days instead of 3
    reviewer.goto(f"/review/cases/{case}")
    expect(reviewer.locator("#case-due")).to_contain_text(plain.isoformat())
    expect(reviewer.locator("#case-complex")).to_contain_text("否")

    reviewer.click("#complex-form button:has-text('标为复杂病例')")
    expect(reviewer.locator(".flash-ok")).to_contain_text(f"已标为复杂病例，审核截止改为 {longer.isoformat()}")
    expect(reviewer.locator("#case-due")).to_contain_text(longer.isoformat())
    expect(reviewer.locator("#case-complex .tag.complex")).to_have_text("是")
    expect(reviewer.locator("#case-claim")).to_contain_text("王丽")  # working on it claimed it, as the API does
    detail = reviewer.request.get(f"/v1/workspace/cases/{case}").json()  # the JSON API sees the same case
    assert detail["application"]["complex_case"] is True and detail["review_due"] == longer.isoformat()

    reviewer.click("#complex-form button:has-text('取消复杂病例')")
    expect(reviewer.locator(".flash-ok")).to_contain_text("已取消复杂病例")
    expect(reviewer.locator("#case-due")).to_contain_text(plain.isoformat())
    with web.service.sessions()() as session:
        assert current_case(session, session.get_one(Application, case)).review_due == plain
    reviewer.locator("details.audit summary").click()
    audit = reviewer.locator("#audit")
    expect(audit).to_contain_text("标为复杂病例")
    expect(audit).to_contain_text(f"审核截止：{longer.isoformat()}")


def test_the_json_case_view_gives_each_documents_pages_with_size_and_image(web: Web, reviewer: Page) -> None:
    case = assessed(web.service, C01, external_ref="json-pages")
    detail = reviewer.request.get(f"/v1/workspace/cases/{case}").json()
    with web.service.sessions()() as session:
        sha = {d.id: d.sha256 for d in session.scalars(select(Document).where(Document.application_id == case))}
        read = {e.sha256: e.result for e in session.scalars(select(OcrCacheEntry)
                                                            .where(OcrCacheEntry.sha256.in_(sha.values())))}
    documents = [d for d in detail["documents"] if d["report"]]
    assert len(documents) >= 3
    reviewer.goto(f"/review/cases/{case}")
    for doc in documents:
        ocr_pages = read[sha[doc["id"]]]["pages"]
        assert [(p["number"], p["width"], p["height"]) for p in doc["pages"]] == [
            (n, p["width"], p["height"]) for n, p in enumerate(ocr_pages)]
        first = doc["pages"][0]
        # The case page draws the very same image (one function for both).
        assert reviewer.locator(f"article#doc-{doc['id']} figure.page[data-page='0'] img").get_attribute(
            "src") == first["image_url"]
        image = reviewer.request.get(first["image_url"])
        assert image.status == 200 and image.headers["content-type"] == "image/webp"
        shown = Image.open(io.BytesIO(image.body()))
        # The boxes' space (width × height) is the image's, at most scaled down: same proportions.
        assert abs(shown.width / shown.height - first["width"] / first["height"]) < 0.01
        # Every box of the report lies within its page.
        for source in doc["report"]["field_sources"].values():
            if source.get("box"):
                x0, y0, x1, y1 = source["box"]
                page = doc["pages"][source["page"]]
                slack_x, slack_y = page["width"] * 0.02, page["height"] * 0.02
                assert -slack_x <= x0 < x1 <= page["width"] + slack_x
                assert -slack_y <= y0 < y1 <= page["height"] + slack_y


def test_the_page_image_cache_stays_under_its_cap(web: Web, reviewer: Page, tmp_path: Path) -> None:
    cases = web.cases
    assert cases is not None
    settings = web.service.settings.page_images
    saved = settings.cache_dir, settings.cache_max_bytes
    settings.cache_dir, settings.cache_max_bytes = tmp_path, 1  # smaller than any one page
    try:
        with web.service.sessions()() as session:
            docs = [d.id for d in session.scalars(select(Document).where(Document.application_id == cases.ready)
                                                  .order_by(Document.id))][:2]
        url = "/review/cases/{}/documents/{}/pages/0"
        first = reviewer.request.get(url.format(cases.ready, docs[0]))
        assert first.status == 200
        assert len(list(tmp_path.rglob("*.webp"))) == 1
        second = reviewer.request.get(url.format(cases.ready, docs[1]))
        assert second.status == 200
        kept = list(tmp_path.rglob("*.webp"))
        assert len(kept) == 1 and kept[0].read_bytes() == second.body()  # the older page went
        again = reviewer.request.get(url.format(cases.ready, docs[0]))  # drawn anew
        assert again.status == 200 and again.body() == first.body()
    finally:
        settings.cache_dir, settings.cache_max_bytes = saved


def test_trimming_removes_the_least_recently_used_pages_first(tmp_path: Path) -> None:
    now = time.time()
    files = {}
    for n, age in enumerate((500, 400, 300, 200, 100)):  # seconds since last use
        path = tmp_path / f"{n:02x}" / f"page-{n}.webp"
        path.parent.mkdir()
        path.write_bytes(b"x" * 1000)
        os.utime(path, (now - age, now - age))
        files[n] = path
    drawing = tmp_path / "00" / ".drawing-abc"
    drawing.write_bytes(b"y" * 5000)  # being written by another request: never counted nor removed
    assert trim_cache(tmp_path, 5000) == 0  # at the cap: nothing to do
    os.utime(files[0], (now, now))  # page 0 was just served: the most recently used now
    removed = trim_cache(tmp_path, 4000, keep=files[1])  # over: down to 3600 bytes
    assert removed == 2000
    assert sorted(n for n, p in files.items() if p.exists()) == [0, 1, 4]  # 2 and 3 were the oldest, 1 kept
    assert drawing.exists()


def test_the_history_reads_in_words_and_the_page_costs_no_query_per_document(web: Web, reviewer: Page) -> None:
    case = assessed(web.service, C01, external_ref="history-words")
    reviewer.goto(f"/review/cases/{case}")
    row_type = reviewer.locator("article.document select.retype-select").first
    row_type.select_option("other")  # re-typed and re-assessed: the history and the problems change
    expect(reviewer.locator(".flash-ok")).to_contain_text("已改为其他材料")
    # A missing material by its name, never its code.
    named = reviewer.locator("#problems a.show-box").first
    expect(named).to_contain_text("缺少材料：")
    assert not re.search(r"[a-z]", named.inner_text()), named.inner_text()
    reviewer.locator("details.audit summary").click()
    audit = reviewer.locator("#audit").inner_text()
    assert "重新归类" in audit and "材料类型" in audit and "预审完成" in audit
    assert "suihua" in audit  # the reviewer by username
    # No raw codes: no action names, no key=value, no snake_case codes.
    assert not re.search(r"[a-z]+\.[a-z_]+|=|[a-z]+_[a-z]+", audit), audit
    expect(reviewer.locator(".history table.rounds")).to_contain_text("第1轮")

    # The OCR results of all the documents, in at most two queries (not one per document).
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if "ocr_cache" in statement:
            statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        answer = reviewer.request.get(f"/review/cases/{case}")
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert answer.status == 200
    with web.service.sessions()() as session:
        n_docs = len(session.scalars(select(Document).where(Document.application_id == case)).all())
        assert session.scalars(select(User).where(User.username == "suihua")).one()
    assert n_docs >= 3 and 1 <= len(statements) <= 2, statements
