"""The supervisors' dashboard page (``/review/dashboard``): per region and ISO week, cases received
and the pre-screen's verdicts, reviewers' decisions, how often a decision agreed with the
pre-screen, the median time to a decision and the share decided within the SLA, as charts and as a
table of the same numbers.

The numbers come from ``intake.workspace.dashboard`` (also served as JSON at
``/v1/workspace/dashboard``), so the page and the API never disagree. Charts are drawn here, on
the server, with matplotlib's Agg/SVG backend and inlined as ``<svg>``: no chart script, no CDN,
and a page that prints and archives as it is shown. Text stays text in the SVG (``svg.fonttype``
"none"), in Noto Sans CJK as matplotlib finds it (fonts-noto-cjk), so the labels are searchable and
the charts are a few kilobytes. matplotlib is imported on the first dashboard request only: the API
process does not pay for it otherwise.

Reviewers get 403: the dashboard is for supervisors and administrators.
"""

from __future__ import annotations

import io
import json
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from api.deps import SessionDep, SettingsDep
from api.pages_auth import SIGN_IN_PATH, session_user
from api.routes.login import page_context, templates
from intake.workspace.access import is_supervisor
from intake.workspace.dashboard import WeekRow, dashboard

router = APIRouter(tags=["workspace pages"], include_in_schema=False)
PATH = "/review/dashboard"
WEEK_CHOICES = (4, 12, 26, 52)

PRESCREEN_LABELS = {"ready_for_review": "预审通过", "needs_supplement": "预审需补正"}
DECISION_LABELS = {"approved": "批准", "rejected": "不予批准", "needs_supplement": "要求补正"}
PRESCREEN_COLOURS = {"ready_for_review": "#2e7d32", "needs_supplement": "#b26a00"}
DECISION_COLOURS = {"approved": "#2e7d32", "rejected": "#c62828", "needs_supplement": "#b26a00"}
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "AR PL UKai CN")


@dataclass(frozen=True)
class Chart:
    title: str
    svg: Markup  # an inline <svg> element, safe to insert as it is


# --- the page ---------------------------------------------------------------------------------------


@router.get(PATH, response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    weeks: Annotated[int, Query(ge=1, le=104)] = 12,
    region: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    user = session_user(request, session, settings)
    if user is None:
        return RedirectResponse(f"{SIGN_IN_PATH}?next={quote(str(request.url.path))}", status_code=303)
    if not is_supervisor(user):
        return templates.TemplateResponse(request, "dashboard.html", page_context(
            request, user=user, refused="统计看板仅供科室负责人和管理员查看。如需查看，请联系管理员调整您的角色。",
            rows=[], charts=[], regions=[], region=None, weeks=weeks, week_choices=WEEK_CHOICES,
            labels=_labels()), status_code=403)
    rows = dashboard(session, user, weeks=weeks)
    session.commit()
    regions = sorted({r.region for r in rows} | set(user.regions or []))
    shown = [r for r in rows if region in (None, "", r.region)]
    return templates.TemplateResponse(request, "dashboard.html", page_context(
        request, user=user, refused=None, rows=shown, charts=charts(shown), regions=regions, region=region or None,
        weeks=weeks, week_choices=WEEK_CHOICES, labels=_labels()))


def _labels() -> dict[str, dict[str, str]]:
    return {"prescreen": PRESCREEN_LABELS, "decisions": DECISION_LABELS}


# --- the charts -------------------------------------------------------------------------------------


def charts(rows: Sequence[WeekRow]) -> list[Chart]:
    """The dashboard's charts over ``rows`` (one region or several): counts summed over the regions
    as stacked bars per week; the rates, one line per region (they do not add up across regions).
    Drawing five charts takes a few hundred milliseconds: the same numbers are drawn once and the
    SVG reused (a supervisor reloading the page, or two looking at one scope)."""
    if not rows:
        return []
    return list(_charts_of(json.dumps([r.__dict__ for r in rows], sort_keys=True, ensure_ascii=False)))


@lru_cache(maxsize=64)
def _charts_of(key: str) -> tuple[Chart, ...]:
    rows = [WeekRow(**r) for r in json.loads(key)]
    weeks = sorted({r.week for r in rows})
    return (
        Chart("每周收件量与预审结论", _stacked(weeks, rows, lambda r: r.prescreen, PRESCREEN_LABELS,
                                          PRESCREEN_COLOURS, "件", salt="received")),
        Chart("每周审核决定", _stacked(weeks, rows, lambda r: r.decisions, DECISION_LABELS, DECISION_COLOURS, "件",
                                   salt="decisions")),
        Chart("审核决定与预审结论一致率", _lines(weeks, rows, lambda r: _percent(r.agreement), "%", salt="agreement",
                                         top=100)),
        Chart("提交至作出决定的时长（中位数）", _lines(weeks, rows, lambda r: r.median_hours_to_decision, "小时",
                                             salt="hours")),
        Chart("时限内办结率", _lines(weeks, rows, lambda r: _percent(r.sla_met), "%", salt="sla", top=100)),
    )


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


_drawing = threading.Lock()  # pyplot's state is global: one figure at a time per process


@cache
def _matplotlib() -> Any:
    """pyplot on the Agg backend, with the CJK font matplotlib's font manager finds installed."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    installed = {f.name for f in font_manager.fontManager.ttflist}
    families = [name for name in CJK_FAMILIES if name in installed]
    plt.rcParams.update({
        "font.family": "sans-serif",
        "font.sans-serif": [*families, "DejaVu Sans"],
        "svg.fonttype": "none",  # text stays <text>: searchable, small; the page names the same fonts
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.unicode_minus": False,
        "font.size": 9,
    })
    return plt


def _svg(draw: Callable[[Any, Any], None], salt: str) -> Markup:
    plt = _matplotlib()
    with _drawing:
        plt.rcParams["svg.hashsalt"] = salt  # ids unique per chart, several charts inline in one page
        fig, ax = plt.subplots(figsize=(6.4, 2.8))
        try:
            draw(fig, ax)
            fig.tight_layout()
            out = io.StringIO()
            fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
        finally:
            plt.close(fig)
    text = out.getvalue()
    return Markup(text[text.index("<svg"):])  # drop the XML prologue and DOCTYPE: inline in HTML


def _stacked(weeks: list[str], rows: Sequence[WeekRow], counts: Callable[[WeekRow], dict[str, int]],
             labels: dict[str, str], colours: dict[str, str], unit: str, *, salt: str) -> Markup:
    totals = {key: [0] * len(weeks) for key in labels}
    index = {w: i for i, w in enumerate(weeks)}
    for r in rows:
        for key, n in counts(r).items():
            totals.setdefault(key, [0] * len(weeks))[index[r.week]] += n

    def draw(_fig: Any, ax: Any) -> None:
        bottom = [0] * len(weeks)
        for key, values in totals.items():
            if not any(values):
                continue
            ax.bar(range(len(weeks)), values, bottom=bottom, label=labels.get(key, key),
                   color=colours.get(key, "#616e7c"), width=0.7)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        _week_axis(ax, weeks)
        ax.set_ylabel(unit)
        ax.yaxis.get_major_locator().set_params(integer=True)
        if any(bottom):
            ax.legend(loc="upper left", frameon=False, ncols=3)
            ax.set_ylim(0, max(bottom) * 1.25)

    return _svg(draw, salt)


def _lines(weeks: list[str], rows: Sequence[WeekRow], value: Callable[[WeekRow], float | None], unit: str, *,
           salt: str, top: float | None = None) -> Markup:
    index = {w: i for i, w in enumerate(weeks)}
    series: dict[str, list[float]] = {}
    for r in rows:
        v = value(r)
        series.setdefault(r.region, [math.nan] * len(weeks))[index[r.week]] = math.nan if v is None else v

    def draw(_fig: Any, ax: Any) -> None:
        for region, values in sorted(series.items()):
            ax.plot(range(len(weeks)), values, marker="o", markersize=4, linewidth=1.5, label=region)
        _week_axis(ax, weeks)
        ax.set_ylabel(unit)
        if top is not None:
            ax.set_ylim(0, top * 1.05)
        else:
            ax.set_ylim(bottom=0)
        if series:
            ax.legend(loc="best", frameon=False, ncols=min(len(series), 4))
        ax.grid(axis="y", color="#d9e2ec", linewidth=0.6)

    return _svg(draw, salt)


def _week_axis(ax: Any, weeks: list[str]) -> None:
    ax.set_xticks(range(len(weeks)))
    step = max(1, math.ceil(len(weeks) / 13))  # at most ~13 labels, whatever the range
    ax.set_xticklabels([w.replace("-W", "\nW") if i % step == 0 else "" for i, w in enumerate(weeks)])
    ax.set_xlim(-0.6, len(weeks) - 0.4)
