"""The reviewers' queue and case pages, in headless chromium over cases really processed (OCR, rq
worker): sign in, filter and search the queue (masked, no search term in the access log), claim,
boxes that sit on their text, a corrected field, a re-typed document, a supplement request whose
callback arrives, an approval, region isolation (page and API 404) and CSRF refusal.

The tests share one session of processed cases (``tests/web/conftest.py``); each works its own case.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from intake import clock
from intake.models import Application, Document, FieldEdit, OcrCacheEntry
from intake.workspace.access import current_case
from intake.workspace.masking import mask_id_number, mask_name
from tests.api.test_workspace_auth import make_user
from tests.web.conftest import C01, C02, C10, Web, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.ocr]


def applicant(folder) -> dict:  # type: ignore[no-untyped-def]
    return json.loads((folder / "application.json").read_text("utf-8"))


def row(page: Page, application_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f'tr.case-row[data-id="{application_id}"]')


def document_article(page: Page, web: Web, application_id: str, doc_type: str):  # type: ignore[no-untyped-def]
    with web.service.sessions()() as session:
        doc = next(d for d in session.scalars(select(Document).where(Document.application_id == application_id))
                   if d.report and d.report["doc_type"] == doc_type)
    return page.locator(f"article#doc-{doc.id}"), doc


def test_the_queue_lists_my_regions_cases_masked_filtered_and_searched(web: Web, reviewer: Page) -> None:
    page, cases = reviewer, web.cases
    assert cases is not None
    person = applicant(C01)
    # Default: the cases waiting for a decision (ready_for_review) of 绥化市, soonest deadline first.
    expect(row(page, cases.ready)).to_be_visible()
    expect(row(page, cases.to_approve)).to_be_visible()
    expect(row(page, cases.mismatch)).to_have_count(0)  # needs_supplement: not waiting for a reviewer
    expect(row(page, cases.other_region)).to_have_count(0)  # another region
    first = row(page, cases.ready)
    expect(first).to_contain_text(mask_name(person["applicant_name"]))
    expect(first).to_contain_text(mask_id_number(person["id_number"]))
    html = page.content()
    assert person["applicant_name"] not in html and person["id_number"] not in html
    # The samples' deadlines lie months back: marked overdue.
    expect(first.locator(".tag.overdue")).to_have_text("逾期")

    # Filters: every status, then the pre-screen's verdict and a problem kind.
    page.select_option("select[name=status]", "all")
    page.select_option("select[name=verdict]", "needs_supplement")
    page.click("#filters button[type=submit]")
    expect(page.locator("tr.case-row")).to_have_count(1)
    expect(row(page, cases.mismatch)).to_contain_text("身份不符")
    page.select_option("select[name=verdict]", "")
    page.select_option("select[name=problem]", "identity_mismatch")
    page.click("#filters button[type=submit]")
    expect(page.locator("tr.case-row")).to_have_count(1)
    page.select_option("select[name=problem]", "")
    page.fill("input[name=disease]", "高血压")
    page.click("#filters button[type=submit]")
    expect(page.locator("td.empty")).to_be_visible()

    # Search by the whole ID number (both c01 applications), through the keyboard's "/".
    page.goto("/review/queue?status=all")
    page.keyboard.press("/")
    page.keyboard.type(person["id_number"])
    page.keyboard.press("Enter")
    expect(page.locator("#queue-total")).to_have_text("2")
    assert {cases.ready, cases.to_approve} == set(page.locator("tr.case-row").evaluate_all(
        "rows => rows.map(r => r.dataset.id)"))
    assert "status=all" in page.url  # the filters in force are kept; the term is not in the URL
    assert person["id_number"] not in page.url
    page.fill("#queue-search", "c01-second")  # an external reference
    page.click(".search button[type=submit]")
    expect(page.locator("tr.case-row")).to_have_count(1)
    page.click("button.secondary:has-text('清除搜索')")
    expect(page.locator("#queue-total")).to_have_text("3")
    # Nothing personal reached the server's access log.
    assert web.access_log.lines, "uvicorn's access log was not captured"
    logged = "\n".join(web.access_log.lines)
    assert person["id_number"] not in logged and person["applicant_name"] not in logged


def test_a_deadline_due_today_and_estimated_is_marked_so(web: Web, reviewer: Page) -> None:
    """A deadline that counted a day of a year without a holiday schedule (intake.workdays) is an
    estimate: the queue and the case page say so, beside "due today"."""
    page, cases = reviewer, web.cases
    assert cases is not None
    with web.service.sessions().begin() as session:
        case = current_case(session, session.get_one(Application, cases.to_approve))
        case.set_review_deadline(clock.local_date(), estimated=True)
    page.reload()
    due = row(page, cases.to_approve).locator("td.due")
    expect(due.locator(".tag.due-today")).to_have_text("今日到期")
    expect(due.locator(".tag.estimate")).to_have_text("估算")
    expect(row(page, cases.ready).locator(".tag.estimate")).to_have_count(0)
    # Soonest deadline first: the overdue case comes before the one due today.
    ids = page.locator("tr.case-row").evaluate_all("rows => rows.map(r => r.dataset.id)")
    assert ids.index(cases.ready) < ids.index(cases.to_approve)
    page.goto(f"/review/cases/{cases.to_approve}")
    expect(page.locator("#case-due .tag.estimate")).to_have_text("估算")
    expect(page.locator("#case-due .tag.due-today")).to_be_visible()


def test_a_reviewer_claims_a_case_from_the_queue_and_releases_it(web: Web, reviewer: Page) -> None:
    page, cases = reviewer, web.cases
    assert cases is not None
    target = row(page, cases.to_approve)
    target.locator("button:has-text('认领')").click()
    expect(page.locator(".flash-ok")).to_contain_text("已认领")
    expect(row(page, cases.to_approve).locator(".claimer")).to_have_text("王丽")
    # A second reviewer of the region sees it held and cannot take it.
    make_user(web.service, "second", name="赵敏", regions=("绥化市",))
    other = sign_in(page.context.browser, web, "second")
    try:
        expect(row(other, cases.to_approve).locator(".claimer")).to_have_text("王丽")
        expect(row(other, cases.to_approve).locator("button")).to_have_count(0)
        answer = other.request.post(f"/v1/workspace/cases/{cases.to_approve}/claim",
                                    headers={"X-CSRFToken": _csrf_cookie(other)})
        assert answer.status == 409 and "王丽" in answer.json()["detail"]
    finally:
        other.context.close()
    row(page, cases.to_approve).locator("button:has-text('释放')").click()
    expect(row(page, cases.to_approve).locator(".claimer")).to_have_text("")


def _csrf_cookie(page: Page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


def _box(locator) -> dict[str, float]:  # type: ignore[no-untyped-def]
    box = locator.bounding_box()
    assert box is not None
    return box


def test_the_name_fields_box_sits_over_its_text_on_the_page_image(web: Web, reviewer: Page) -> None:
    page, cases = reviewer, web.cases
    assert cases is not None
    name = applicant(C01)["applicant_name"]
    page.goto(f"/review/cases/{cases.ready}")
    expect(page.locator("#applicant-name")).to_have_text(name)  # whole on the case page
    expect(page.locator("#applicant-id")).to_have_text(applicant(C01)["id_number"])
    article, doc = document_article(page, web, cases.ready, "diagnosis_certificate")
    img = article.locator("figure.page[data-page='0'] img")
    expect(img).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    with web.service.sessions()() as session:
        entry = session.scalars(select(OcrCacheEntry).where(OcrCacheEntry.sha256 == doc.sha256)).one()
        ocr_page = entry.result["pages"][0]
    line = next(ln for ln in ocr_page["lines"] if name in ln["text"])  # the OCR line the name was read in
    x0, y0, x1, y1 = _line_box(line)
    shown = _box(img)
    scale = shown["width"] / ocr_page["width"]
    assert abs(shown["height"] / ocr_page["height"] - scale) < 0.01  # the page keeps its proportions
    expected = {"x": shown["x"] + x0 * scale, "y": shown["y"] + y0 * scale,
                "right": shown["x"] + x1 * scale, "bottom": shown["y"] + y1 * scale}
    field_box = _box(article.locator("rect[data-key='field:patient_name']"))
    # The drawn box and the OCR line overlap on screen: the box is on the name's text.
    overlap_w = min(field_box["x"] + field_box["width"], expected["right"]) - max(field_box["x"], expected["x"])
    overlap_h = min(field_box["y"] + field_box["height"], expected["bottom"]) - max(field_box["y"], expected["y"])
    assert overlap_w > 0 and overlap_h > 0, (field_box, expected)
    assert overlap_h >= 0.6 * min(field_box["height"], expected["bottom"] - expected["y"]), (field_box, expected)
    # … and within the line, give or take a few pixels of the line's outline.
    slack = 3
    assert expected["x"] - slack <= field_box["x"] and field_box["x"] + field_box["width"] <= expected["right"] + slack
    # Zoomed in, the box stays on the text.
    article.locator("[data-zoom=in]").click()
    zoomed_img, zoomed_box = _box(img), _box(article.locator("rect[data-key='field:patient_name']"))
    assert zoomed_img["width"] > shown["width"] * 1.2
    ratio = zoomed_img["width"] / shown["width"]
    assert abs((zoomed_box["x"] - zoomed_img["x"]) - (field_box["x"] - shown["x"]) * ratio) < 2
    # The field is in the form beside the page, pre-filled, with its confidence; focusing it lights its box.
    field = article.locator("input[name=patient_name]")
    expect(field).to_have_value(name)
    expect(article.locator("tr[data-key='field:patient_name'] td.conf")).to_contain_text("%")
    field.focus()
    expect(article.locator("rect[data-key='field:patient_name']")).to_have_class(re.compile(r"\bhl\b"))
    # The checks, in plain Chinese.
    expect(article.locator("tr.check-seal")).to_contain_text("见公章")
    expect(article.locator("tr.check-hospital td").nth(1)).to_contain_text(re.compile(r"级"))
    expect(article.locator("tr.check-recency")).to_contain_text("所用日期")


def _line_box(line: dict) -> tuple[float, float, float, float]:
    box = line["box"]
    if isinstance(box, dict):
        return box["x0"], box["y0"], box["x1"], box["y1"]
    if box and isinstance(box[0], list | tuple):  # a polygon
        xs, ys = [p[0] for p in box], [p[1] for p in box]
        return min(xs), min(ys), max(xs), max(ys)
    return tuple(box)  # type: ignore[return-value]


def test_a_problem_shows_its_box_and_a_corrected_name_clears_it(web: Web, reviewer: Page) -> None:
    page, cases = reviewer, web.cases
    assert cases is not None
    page.goto(f"/review/cases/{cases.mismatch}")
    expect(page.locator("#case-verdict")).to_have_text("需补正")
    problem = page.locator("#problems li").first
    expect(problem).to_contain_text("身份不符")
    problem.locator("a.show-box").click()
    key = problem.get_attribute("data-key")
    lit = page.locator(f"rect[data-key='{key}']")
    expect(lit).to_have_class(re.compile(r"\bhl\b"))
    expect(problem).to_have_class(re.compile(r"\bactive\b"))

    article, doc = document_article(page, web, cases.mismatch, "discharge_summary")
    name = applicant(C10)["applicant_name"]
    article.locator("input[name=patient_name]").fill(name)
    article.locator("input[name=reason]").fill("出院小结姓名识别错误")
    article.locator("form.fields button[type=submit]").click()
    expect(page.locator(".flash-ok")).to_contain_text("重新评估")
    expect(page.locator("#case-verdict")).to_have_text("材料齐全")
    expect(page.locator("#problems")).to_have_count(0)
    article = page.locator(f"article#doc-{doc.id}")
    expect(article.locator("input[name=patient_name]")).to_have_value(name)
    expect(article.locator("tr[data-key='field:patient_name'] td.conf")).to_contain_text("100%")
    expect(article.locator("tr.check-identity")).to_contain_text("姓名一致")
    expect(article.locator("details.edits")).to_contain_text("出院小结姓名识别错误")
    with web.service.sessions()() as session:
        stored = session.get(Document, doc.id)
        assert stored is not None and stored.report["fields"]["patient_name"] != name  # the extraction is kept


def test_retyping_re_assesses_and_a_supplement_request_reaches_the_app(web: Web, reviewer: Page) -> None:
    page, cases = reviewer, web.cases
    assert cases is not None
    page.goto(f"/review/cases/{cases.ready}")
    expect(page.locator("#case-verdict")).to_have_text("材料齐全")
    article, lab = document_article(page, web, cases.ready, "lab_report")
    # Re-typed as a kind of `other` (a treatment record), which no rule of this 病种 names.
    article.locator("select.retype-select").select_option("other:treatment_record")  # submits at once
    expect(page.locator(".flash-ok")).to_contain_text("已改为其他材料·治疗记录")
    expect(page.locator("#case-verdict")).to_have_text("需补正")
    expect(page.locator("#problems")).to_contain_text("缺少材料")
    expect(page.locator(f"article#doc-{lab.id} .doctype")).to_contain_text("其他材料·治疗记录")
    with web.service.sessions()() as session:
        kinds = session.scalars(select(FieldEdit.value).where(FieldEdit.document_id == lab.id,
                                                              FieldEdit.field == "kind")).all()
        assert kinds == ["treatment_record"]
    expect(page.locator("#case-claim")).to_contain_text("王丽")  # working on it claimed it

    # The notice as the pre-screen wrote it, edited by the reviewer, then sent.
    notice = page.locator("#notice")
    expect(notice).to_have_value(re.compile("缺少"))
    edited = "您好：请补充上传近三个月内的检查检验报告（化验单），拍摄完整清晰后重新提交。"
    notice.fill(edited)
    page.click("#supplement-form button[name=decision]")
    expect(page.locator(".flash-ok")).to_contain_text("已发送补正告知")
    assert page.url.endswith("/review/queue")
    web.service.work()  # the callback job, by a real rq worker
    payloads = [json.loads(body) for _, body in web.callbacks]
    assert [p["verdict"] for p in payloads] == ["ready_for_review", "needs_supplement"]
    assert payloads[-1]["notice"] == edited
    assert any(p.startswith("missing:") for p in payloads[-1]["problems"])
    page.goto(f"/review/cases/{cases.ready}")
    expect(page.locator("#case-status")).to_have_text("待补正")
    expect(page.locator("#supplement-form")).to_have_count(0)  # decided: waits for the applicant
    expect(page.locator(".history")).to_contain_text("作出决定")


def test_approving_another_case(web: Web, reviewer: Page) -> None:
    page, cases = reviewer, web.cases
    assert cases is not None
    page.goto(f"/review/cases/{cases.to_approve}")
    article, lab = document_article(page, web, cases.to_approve, "lab_report")
    article.locator("button[name=mark][value=accepted]").click()
    expect(page.locator(f"article#doc-{lab.id} .tag.mark-accepted")).to_have_text("材料合格")
    page.click("#approve-form button")
    expect(page.locator(".flash-ok")).to_contain_text("已批准")
    expect(row(page, cases.to_approve)).to_have_count(0)  # no longer waiting
    with web.service.sessions()() as session:
        assert session.get_one(Application, cases.to_approve).status == "approved"
    page.goto(f"/review/cases/{cases.to_approve}")
    expect(page.locator("#case-status")).to_have_text("已批准")
    expect(page.locator("#approve-form")).to_have_count(0)


def test_a_reviewer_of_another_region_gets_nothing(web: Web, browser: object) -> None:
    cases = web.cases
    assert cases is not None
    page = sign_in(browser, web, "snj")
    try:
        expect(page.locator("tr.case-row")).to_have_count(1)
        expect(row(page, cases.other_region)).to_contain_text(mask_name(applicant(C02)["applicant_name"]))
        answer = page.goto(f"/review/cases/{cases.mismatch}")
        assert answer is not None and answer.status == 404
        expect(page.locator("h1")).to_have_text("未找到")
        assert applicant(C10)["applicant_name"] not in page.content()
        assert page.request.get(f"/v1/workspace/cases/{cases.mismatch}").status == 404
        with web.service.sessions()() as session:
            doc = session.scalars(select(Document).where(Document.application_id == cases.mismatch)).first()
            assert doc is not None
        image = page.request.get(f"/review/cases/{cases.mismatch}/documents/{doc.id}/pages/0")
        assert image.status == 404
        # An action through a page form: 404 too, nothing done.
        refused = page.request.post(f"/review/cases/{cases.mismatch}/claim",
                                    form={"csrftoken": _csrf_cookie(page)}, max_redirects=0)
        assert refused.status == 404
        # Their own case's page images are served, as WebP.
        with web.service.sessions()() as session:
            own = session.scalars(select(Document).where(Document.application_id == cases.other_region)).first()
            assert own is not None
        mine = page.request.get(f"/review/cases/{cases.other_region}/documents/{own.id}/pages/0")
        assert mine.status == 200 and mine.headers["content-type"] == "image/webp"
        assert mine.body()[:4] == b"RIFF" and mine.body()[8:12] == b"WEBP"
    finally:
        page.context.close()


def test_a_form_without_its_csrf_token_is_refused(web: Web, reviewer: Page) -> None:
    page, cases = reviewer, web.cases
    assert cases is not None
    page.goto(f"/review/cases/{cases.mismatch}")
    page.evaluate("document.querySelectorAll('#approve-form input[name=csrftoken]').forEach(i => i.remove())")
    with page.expect_navigation():
        page.click("#approve-form button")
    assert "已拒绝提交" in page.content()
    with web.service.sessions()() as session:
        assert session.get_one(Application, cases.mismatch).status == "needs_supplement"  # nothing decided
    refused = page.request.post(f"/review/cases/{cases.mismatch}/claim", form={"next": "/review/queue"},
                                max_redirects=0)
    assert refused.status == 403
