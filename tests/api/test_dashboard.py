"""The supervisors' dashboard page (/review/dashboard) on a small data set whose every number is
known: cases and decisions written straight into the database (SQLite and PostgreSQL), the clock
frozen, the page read through the real app with a signed-in supervisor. The table's numbers, the
inline SVG charts, the region filter, a reviewer refused, a visitor sent to sign in."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from intake import clock
from intake.models import Application, Case, ReviewDecision, User
from tests.api.conftest import Service
from tests.api.test_workspace_auth import make_user, sign_in

pytestmark = [pytest.mark.redis]

TODAY = dt.date(2026, 3, 12)  # a Thursday of ISO week 2026-W11


def at(day: str, hour: int = 10) -> dt.datetime:
    """A moment in China time, as the service stores it (UTC)."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=clock.CHINA).astimezone(dt.UTC)


# (region, submitted, pre-screen verdict, review due, decision or None, decided at)
CASES = [
    ("绥化市", at("2026-03-02"), "ready_for_review", "2026-03-04", "approved", at("2026-03-03")),  # 24 h, in time
    ("绥化市", at("2026-03-03"), "needs_supplement", "2026-03-05", "approved", at("2026-03-10")),  # 168 h, late
    ("绥化市", at("2026-03-09"), "ready_for_review", "2026-03-11", "rejected", at("2026-03-11")),  # 48 h, in time
    ("绥化市", at("2026-03-10"), "needs_supplement", "2026-03-12", "needs_supplement", at("2026-03-10", 16)),  # 6 h
    ("神农架林区", at("2026-03-10"), "ready_for_review", "2026-03-12", None, None),
    ("六盘水市", at("2026-03-10"), "ready_for_review", "2026-03-12", "approved", at("2026-03-11")),  # not the boss's
]


def seed(service: Service) -> None:
    make_user(service, "boss", role="supervisor", regions=("绥化市", "神农架林区"), name="李主任")
    make_user(service, "reviewer", regions=("绥化市",))
    make_user(service, "admin", role="admin", regions=())
    with service.sessions().begin() as session:
        reviewer = session.scalars(select(User).where(User.username == "reviewer")).one()
        for n, (region, submitted, verdict, due, decision, decided) in enumerate(CASES):
            app = Application(channel_id="app-a", applicant_name=f"申请人{n}", id_number="230102199001011234",
                              disease="糖尿病", region=region, application_date=submitted.date(), round=1,
                              status=decision or "ready_for_review", submitted_at=submitted)
            session.add(app)
            session.flush()
            case = Case(application_id=app.id, round=1, revision=0, verdict=verdict, problems=[], notice="",
                        report={}, submitted_at=submitted, review_due=dt.date.fromisoformat(due), created_at=submitted)
            session.add(case)
            session.flush()
            if decision:
                session.add(ReviewDecision(application_id=app.id, round=1, case_id=case.id, decision=decision,
                                           reasons=[], note="", prescreen_verdict=verdict, user_id=reviewer.id,
                                           created_at=decided))


def table_rows(html: str) -> list[list[str]]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def page(service: Service, username: str, query: str = ""):  # type: ignore[no-untyped-def]
    service.client.cookies.clear()  # a browser of its own per user
    with clock.frozen(TODAY):
        assert sign_in(service, username).status_code == 303
        return service.client.get(f"/review/dashboard{query}", follow_redirects=False)


def test_the_dashboard_counts_a_known_data_set_by_region_and_week(service: Service) -> None:
    seed(service)
    answer = page(service, "boss")
    assert answer.status_code == 200, answer.text
    # region, week, received, 预审通过, 预审需补正, 批准, 不予批准, 要求补正, agreement, median, in time
    assert table_rows(answer.text) == [
        ["神农架林区", "2026-W11", "1", "1", "0", "0", "0", "0", "—", "—", "—"],
        ["绥化市", "2026-W10", "2", "1", "1", "1", "0", "0", "100.0%", "24.0 小时", "100.0%"],
        ["绥化市", "2026-W11", "2", "1", "1", "1", "1", "1", "33.3%", "48.0 小时", "66.7%"],
    ]
    assert "六盘水市" not in answer.text  # not the supervisor's region
    assert 'href="/review/dashboard"' in answer.text  # the nav link, for a supervisor

    # The JSON API serves the same service function's numbers.
    with clock.frozen(TODAY):
        api_rows = service.client.get("/v1/workspace/dashboard").json()["rows"]
    assert [(r["region"], r["week"], r["received"]) for r in api_rows] == [
        ("神农架林区", "2026-W11", 1), ("绥化市", "2026-W10", 2), ("绥化市", "2026-W11", 2)]


def test_the_charts_are_inline_svg_drawn_on_the_server(service: Service) -> None:
    seed(service)
    html = page(service, "boss").text
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svgs) == 5
    for svg in svgs:
        root = ET.fromstring(svg)  # well-formed SVG, inline
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = ["".join(t.itertext()) for svg in svgs
             for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert {"预审通过", "预审需补正", "批准", "不予批准", "要求补正", "绥化市"} <= set(texts)
    assert any("W10" in t for t in texts) and any("W11" in t for t in texts)
    assert "Noto Sans CJK" in svgs[0]  # the CJK font matplotlib found (fonts-noto-cjk)
    # The received chart stacks one bar per verdict and week: 2 weeks x 2 verdicts.
    bars = re.findall(r'<g id="patch_\d+">\s*<path d="M [\d.]+ [\d.]+\s*L', svgs[0])
    assert len(bars) >= 4
    assert "<script" not in html and "cdn" not in html.lower()


def test_one_region_and_an_administrator_sees_every_region(service: Service) -> None:
    seed(service)
    only = page(service, "boss", "?region=神农架林区&weeks=4")
    assert [r[:3] for r in table_rows(only.text)] == [["神农架林区", "2026-W11", "1"]]
    everything = page(service, "admin")
    assert {r[0] for r in table_rows(everything.text)} == {"绥化市", "神农架林区", "六盘水市"}


def test_a_reviewer_is_refused_and_a_visitor_is_sent_to_sign_in(service: Service) -> None:
    seed(service)
    with clock.frozen(TODAY):
        visitor = service.client.get("/review/dashboard", follow_redirects=False)
    assert visitor.status_code == 303 and visitor.headers["location"] == "/review/login?next=/review/dashboard"
    refused = page(service, "reviewer")
    assert refused.status_code == 403
    assert "仅供科室负责人和管理员查看" in refused.text
    assert "<svg" not in refused.text and "绥化市" not in refused.text.split("<main>", 1)[1]
    assert 'href="/review/dashboard"' not in refused.text
    with clock.frozen(TODAY):
        assert service.client.get("/v1/workspace/dashboard").status_code == 403
