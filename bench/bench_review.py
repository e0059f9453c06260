"""The reviewers' workspace under load: queue and case page server times with 100,000 cases in
PostgreSQL, and what a 6-document case page weighs and how long its page images take.

1. A fresh PostgreSQL database (``CREATE DATABASE bench_<random>``, dropped afterwards), migrated.
2. One real 6-document case: the generated sample ``c03`` (六盘水市; HEIC, multi-page PDFs, photos)
   read through the real pipeline (OCR, classification, checks, assessment) in this process. Its
   OCR results are cached in ``--cache`` (a SQLite file) so a second run reads nothing, and copied
   into the bench database, where the page images are drawn from.
3. ``--cases`` applications bulk-loaded with COPY: their documents and reports cloned from the
   real case (ids, names, ID numbers, dates substituted), with a spread of regions, statuses,
   pre-screen verdicts, diseases, problem codes, reviewer flags, channels, due dates (overdue, due
   today, later), second rounds, decisions, and claims by a few reviewers. Then ANALYZE.
4. Through the real ASGI app (``api.app``, in-process with Starlette's TestClient; a session
   signed in on the sign-in page as a reviewer of 六盘水市): the queue page and the case page,
   median and p95 over ``--requests`` requests each, beside the targets (queue < 100 ms p95, case
   page < 150 ms p95). Queue requests cycle through filters, searches and pages; case requests
   open a different case each time (every view is audited: a write per request). The workspace's
   JSON API (``/v1/workspace/queue``, ``/cases/{id}``) is timed alike, and the supervisors'
   dashboard once.
5. The 6-document case page: bytes of the HTML and of each ``<img>`` it shows, and the time to
   load those images the first time (each page drawn from the stored upload and the cached OCR
   result) and again (served from the page-image cache).

The slowest SQL statements seen while timing are printed; ``--explain`` runs EXPLAIN ANALYZE on
the slowest queue statement.

    .venv/bin/python bench/bench_review.py                          # 100,000 cases
    .venv/bin/python bench/bench_review.py --cases 2000 --requests 20   # a smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _service import PG_ADMIN_URL, REPO, fresh_database, machine_load

SAMPLE = REPO / "fixtures" / "samples" / "c03_liupanshui_ready_cancer_heic_multipage"
REGION = "六盘水市"  # the sample's region: the signed-in reviewer's
REGIONS = [("绥化市", 0.45), ("六盘水市", 0.40), ("神农架林区", 0.15)]
DISEASES = ["糖尿病", "高血压病", "恶性肿瘤", "冠心病", "慢性阻塞性肺疾病", "支气管哮喘", "尿毒症透析",
            "慢性肾功能衰竭", "脑卒中后遗症", "慢性心力衰竭", "帕金森病", "类风湿关节炎", "器官移植术后抗排异治疗"]
CHANNELS = [("app-province", 0.6), ("app-wechat", 0.25), ("cli", 0.15)]
# Final status of an application (its current round), before rounds and decisions are drawn.
STATUSES = [("approved", 0.42), ("rejected", 0.06), ("needs_supplement", 0.17), ("ready_for_review", 0.32),
            ("prescreening", 0.03)]
REVIEWERS = ["reviewer", "zhang.wei", "li.na", "wang.fang", "chen.jie"]
PASSWORD = "bench-review-password"
QUEUE_TARGET_MS, CASE_TARGET_MS = 100.0, 150.0
PAGE_QUEUE, PAGE_CASE = "/review/queue", "/review/cases/{id}"
API_QUEUE, API_CASE = "/v1/workspace/queue", "/v1/workspace/cases/{id}"


def pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


# --- 2. the real case ----------------------------------------------------------------------------------


@dataclass
class RealCase:
    application_id: str
    region: str
    documents: list[dict[str, Any]]  # the documents' rows (columns), reports included
    case: dict[str, Any]  # the case's row
    applicant_name: str
    id_number: str


def real_case(settings: Any, cache: Path) -> RealCase:
    """The sample read through the real pipeline into the bench database (OCR cached in ``cache``)."""
    from sqlalchemy import select

    from intake.db import session_factory
    from intake.jobs import WorkerContext
    from intake.local import InlineDispatch, prescreen_folder
    from intake.models import Application, Case, OcrCacheEntry
    from intake.prescreen import Prescreener
    from intake.settings import Settings

    prescreener = Prescreener(Settings(db={"url": f"sqlite:///{cache}"}))
    ctx = WorkerContext(settings)
    ctx.prescreener = prescreener  # type: ignore[misc]
    ctx.dispatch = InlineDispatch(ctx)  # type: ignore[misc]
    t0 = time.perf_counter()
    result = prescreen_folder(ctx, SAMPLE)
    print(f"  the 6-document case read through the pipeline in {time.perf_counter() - t0:.1f} s "
          f"(OCR cache {cache})", flush=True)
    with session_factory(settings.db.url).begin() as session:
        app = session.get(Application, result.application_id)
        assert app is not None
        sha256s = [d.sha256 for d in app.documents]
        with prescreener.sessions() as cache_session:  # the page images are drawn from these
            for entry in cache_session.scalars(select(OcrCacheEntry).where(OcrCacheEntry.sha256.in_(sha256s))):
                session.merge(OcrCacheEntry(sha256=entry.sha256, fingerprint=entry.fingerprint,
                                            media_type=entry.media_type, result=entry.result, seal=entry.seal,
                                            created_at=entry.created_at))
        case = session.scalars(select(Case).where(Case.application_id == app.id)).one()
        docs = [{c.name: getattr(d, c.key) for c in d.__table__.columns} for d in app.documents]
        case_row = {c.name: getattr(case, c.key) for c in case.__table__.columns}
        assert len(docs) == 6, f"the sample has {len(docs)} documents, not 6"
        return RealCase(app.id, app.region, docs, case_row, app.applicant_name, app.id_number)


# --- 3. the bulk load ----------------------------------------------------------------------------------


@dataclass
class Loaded:
    region_cases: list[str] = field(default_factory=list)  # application ids of REGION with a case, reviewable
    names: list[str] = field(default_factory=list)  # a few applicant names and ID numbers of REGION, to search
    id_numbers: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _problem_sets(files: list[str]) -> list[list[str]]:
    f = files
    return [["missing:lab_report"], [f"seal_missing:{f[1]}"], [f"stale:{f[4]}"],
            [f"stale:{f[1]}", "missing:lab_report"], [f"grade_too_low:{f[1]}"], [f"identity_mismatch:{f[2]}"],
            [f"unreadable:{f[3]}"],
            [f"hospital_unknown:{f[1]}", f"seal_mismatch:{f[1]}"], ["missing:clinical_record"], [f"id_invalid:{f[0]}"]]


def _flag_sets(files: list[str]) -> list[list[str]]:
    return [[f"stale:{files[1]}"], [f"seal_missing:{files[4]}"], [f"identity_mismatch:{files[2]}"]]


class Templates:
    """The real case's reports as JSON text with placeholders, so that a clone is a few replaces."""

    def __init__(self, real: RealCase) -> None:
        from intake.report import Evidence

        self.real = real
        self.doc_ids = [d["id"] for d in real.documents]
        self.files = [d["filename"] for d in real.documents]
        base = json.dumps(real.case["report"], ensure_ascii=False)
        self.case_json = self._holes(base)
        self.doc_json = [self._holes(json.dumps(d["report"], ensure_ascii=False)) for d in real.documents]
        self.problems = _problem_sets(self.files)
        self.flags = _flag_sets(self.files)
        report = real.case["report"]
        # The real case's first reviewer flag as the model of the clones' flags; a complete one of
        # our own when the pre-screen flagged nothing on it.
        model = (report.get("review_flags") or [None])[0] or Evidence(
            code="", rule="识别结果需人工核对", confidence=0.6, reason="识别置信度不足，需人工核对",
        ).model_dump(mode="json")
        self.flag_evidence = {code: {**model, "code": code, "file": code.split(":", 1)[1]}
                              for fs in self.flags for code in fs}

    def _holes(self, text: str) -> str:
        text = text.replace(self.real.application_id, "@APP@")
        for n, doc_id in enumerate(self.doc_ids):
            text = text.replace(doc_id, f"@DOC{n}@")
        return text.replace(self.real.applicant_name, "@NAME@").replace(self.real.id_number, "@IDNO@")

    @staticmethod
    def fill(text: str, app_id: str, doc_ids: list[str], name: str, id_number: str) -> str:
        text = text.replace("@APP@", app_id).replace("@NAME@", name).replace("@IDNO@", id_number)
        for n, doc_id in enumerate(doc_ids):
            text = text.replace(f"@DOC{n}@", doc_id)
        return text

    def case_report(self, app_id: str, doc_ids: list[str], name: str, id_number: str, *, verdict: str,
                    problems: list[str], flags: list[str], submitted: dt.datetime, due: dt.date, round_: int) -> str:
        report = json.loads(self.fill(self.case_json, app_id, doc_ids, name, id_number))
        report.update(verdict=verdict, problems=problems, round=round_, submitted_at=submitted.isoformat(),
                      review_due=due.isoformat(), review_flags=[self.flag_evidence[c] for c in flags])
        if problems:
            report["notice"] = "您提交的材料需要补正：" + "；".join(problems) + "。请一次性补齐后重新提交。"
        return json.dumps(report, ensure_ascii=False)


def _copy(conn: Any, table: str, columns: list[str], rows: list[tuple]) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


APP_COLS = ["id", "channel_id", "external_ref", "applicant_name", "id_number", "disease", "region", "application_date",
            "status", "round", "submitted_at", "complex_case", "created_at", "updated_at"]
DOC_COLS = ["id", "application_id", "sha256", "filename", "media_type", "size_bytes", "round", "status", "attempts",
            "report", "created_at", "updated_at", "finished_at"]
CASE_COLS = ["id", "application_id", "round", "verdict", "problems", "notice", "report", "submitted_at", "review_due",
             "created_at", "versions", "revision", "flag_codes"]
DECISION_COLS = ["id", "application_id", "round", "case_id", "decision", "reasons", "note", "notice",
                 "prescreen_verdict", "user_id", "created_at"]
CLAIM_COLS = ["application_id", "user_id", "claimed_at"]


def load_cases(db_url: str, real: RealCase, n: int, user_ids: dict[str, int], *, seed: int = 12,
               batch: int = 2000) -> Loaded:
    """``n`` applications (and their documents, cases, decisions, claims) by COPY, in batches."""
    from fixtures.generator.people import make_id_number, random_name
    from intake.db import get_engine

    rng = random.Random(seed)
    t = Templates(real)
    today = dt.datetime.now(dt.UTC)
    out = Loaded()
    case_id = decision_id = 1_000_000  # above the real case's ids; the sequences are moved after
    raw = get_engine(db_url, False).raw_connection()
    try:
        conn = raw.driver_connection
        conn.execute("SET synchronous_commit = off")  # a bulk load; nothing here needs each commit on disk
        for start in range(0, n, batch):
            apps, docs, cases, decisions, claims = [], [], [], [], []
            for _ in range(start, min(start + batch, n)):
                app_id = uuid.uuid4().hex
                region = pick(rng, REGIONS)
                gender = rng.choice("男女")
                name = random_name(rng, gender)
                birth = dt.date(rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28))
                id_number = make_id_number(rng, "liupanshui" if region == REGION else "suihua", birth, gender)
                status = pick(rng, STATUSES)
                # Waiting cases are recent (some overdue, some due today); decided ones spread over 6 months.
                waiting = status in ("ready_for_review", "prescreening")
                submitted = today - dt.timedelta(days=rng.uniform(0, 6) if waiting else rng.uniform(1, 180),
                                                 hours=rng.uniform(0, 10))
                due = (submitted + dt.timedelta(days=rng.choice([1, 2, 3, 3, 4]))).date()
                rounds = 2 if status != "prescreening" and rng.random() < 0.15 else 1
                doc_ids = [uuid.uuid4().hex for _ in t.doc_ids]
                apps.append((app_id, pick(rng, CHANNELS), f"BR-{start}-{len(apps)}-{rng.randrange(10**6)}", name,
                             id_number, rng.choice(DISEASES), region, submitted.date(), status, rounds, submitted,
                             False, submitted, submitted))
                for n_doc, (doc, doc_id) in enumerate(zip(real.documents, doc_ids, strict=True)):
                    report = t.fill(t.doc_json[n_doc], app_id, doc_ids, name, id_number)
                    docs.append((doc_id, app_id, doc["sha256"], doc["filename"], doc["media_type"], doc["size_bytes"],
                                 1, "done", 1, report, submitted, submitted, submitted))
                if status == "prescreening":
                    continue
                for round_ in range(1, rounds + 1):
                    current = round_ == rounds
                    if current and status == "ready_for_review":
                        verdict = "ready_for_review"
                    elif not current or status == "needs_supplement":
                        verdict = "needs_supplement" if not current or rng.random() < 0.8 else "ready_for_review"
                    else:
                        verdict = "ready_for_review" if rng.random() < 0.82 else "needs_supplement"
                    problems = rng.choice(t.problems) if verdict == "needs_supplement" else []
                    flags = rng.choice(t.flags) if rng.random() < 0.12 else []
                    round_submitted = submitted - dt.timedelta(days=10 * (rounds - round_))
                    round_due = due - dt.timedelta(days=10 * (rounds - round_))
                    case_id += 1
                    report = t.case_report(app_id, doc_ids, name, id_number, verdict=verdict, problems=problems,
                                           flags=flags, submitted=round_submitted, due=round_due, round_=round_)
                    cases.append((case_id, app_id, round_, verdict, json.dumps(problems, ensure_ascii=False),
                                  json.loads(report).get("notice", ""), report, round_submitted, round_due,
                                  round_submitted, json.dumps(real.case["versions"]), 0,
                                  json.dumps(flags, ensure_ascii=False)))
                    # A decision: every earlier round's (a supplement asked for), the current one's if final.
                    decided = {"approved": "approved", "rejected": "rejected"}.get(status) if current else (
                        "needs_supplement")
                    if decided is None and current and status == "needs_supplement" and verdict == "ready_for_review":
                        decided = "needs_supplement"  # a reviewer asked for more than the pre-screen did
                    if decided:
                        decision_id += 1
                        hours = rng.lognormvariate(3.2, 0.8)  # median ~1 day, a long tail past the SLA
                        at = min(round_submitted + dt.timedelta(hours=hours), today)
                        reviewer = user_ids[rng.choice(REVIEWERS)]
                        decisions.append((decision_id, app_id, round_, case_id, decided,
                                          json.dumps(["incomplete"] if decided == "rejected" else []), "",
                                          None, verdict, reviewer, at))
                if status == "ready_for_review":
                    if region == REGION:
                        out.region_cases.append(app_id)
                        if len(out.names) < 50:
                            out.names.append(name)
                            out.id_numbers.append(id_number)
                    if rng.random() < 0.05:
                        claims.append((app_id, user_ids[rng.choice(REVIEWERS)], today))
            for table, cols, rows in (("applications", APP_COLS, apps), ("documents", DOC_COLS, docs),
                                      ("cases", CASE_COLS, cases), ("review_decisions", DECISION_COLS, decisions),
                                      ("case_claims", CLAIM_COLS, claims)):
                _copy(conn, table, cols, rows)
                out.rows[table] += len(rows)
            conn.commit()
            if (start // batch) % 10 == 9:
                print(f"  … {start + batch} applications", flush=True)
        for table in ("cases", "review_decisions"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        # What the service keeps on each application as it writes cases (intake.models._current_deadlines).
        conn.execute(
            "UPDATE applications a SET review_due = c.review_due, queue_tags = '|' || coalesce(("
            "SELECT string_agg(DISTINCT t, '|' ORDER BY t) FROM ("
            "SELECT 'p:' || split_part(x, ':', 1) AS t FROM json_array_elements_text(c.problems) x UNION "
            "SELECT 'f:' || split_part(x, ':', 1) FROM json_array_elements_text(c.flag_codes) x) k) || '|', '') "
            "FROM cases c WHERE c.application_id = a.id AND c.round = a.round AND c.superseded_by IS NULL")
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE")  # what autovacuum would have done after a load this size
        conn.autocommit = False
    finally:
        raw.close()
    return out


# --- 4. timing through the ASGI app -------------------------------------------------------------------


class SlowStatements:
    """The slowest SQL statements run on the engine while it is attached (with their parameters)."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.engine, self.seen = engine, []
        self.active = False
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool) -> None:
        context._bench_t0 = time.perf_counter()

    def _after(self, conn: Any, _cursor: Any, statement: str, params: Any, context: Any, _many: bool) -> None:
        if self.active:
            self.seen.append(((time.perf_counter() - context._bench_t0) * 1000, statement, params))

    @contextlib.contextmanager
    def watching(self) -> Iterator[list]:
        self.seen, self.active = [], True
        try:
            yield self.seen
        finally:
            self.active = False

    @staticmethod
    def slowest(seen: list, n: int = 3) -> list[tuple[float, str, Any]]:
        by_sql: dict[str, list] = defaultdict(list)
        for ms, sql, params in seen:
            by_sql[sql].append((ms, params))
        worst = sorted(((max(v)[0], sql, max(v)[1]) for sql, v in by_sql.items()), reverse=True)
        return worst[:n]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def timed(client: Any, url: str) -> tuple[float, Any]:
    t0 = time.perf_counter()
    answer = client.get(url)
    return (time.perf_counter() - t0) * 1000, answer


def summary(name: str, ms: list[float], target: float | None = None) -> str:
    if not ms:
        return f"  {name:<34} not available"
    p95 = percentile(ms, 95)
    verdict = "" if target is None else f"   target < {target:.0f} ms p95: {'met' if p95 < target else 'MISSED'}"
    return f"  {name:<34} median {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms   (n={len(ms)}){verdict}"


def queue_urls(base: str, loaded: Loaded) -> list[tuple[str, str]]:
    name = loaded.names[0] if loaded.names else "王"
    id_number = loaded.id_numbers[0] if loaded.id_numbers else "0"
    return [
        ("first page", base),
        ("page 5", f"{base}?offset=200"),
        ("every status", f"{base}?status=all"),
        ("verdict needs_supplement", f"{base}?status=all&verdict=needs_supplement"),
        ("problem stale", f"{base}?status=all&problem=stale"),
        ("any reviewer flag", f"{base}?flag=any"),
        ("disease", f"{base}?disease=糖尿病"),
        ("name's first character", f"{base}?status=all&q={name[0]}"),
        ("whole ID number", f"{base}?status=all&q={id_number}"),
        ("my claims", f"{base}?mine=true"),
    ]


def time_queue(client: Any, base: str, loaded: Loaded, requests: int) -> tuple[list[float], dict[str, list[float]]]:
    urls = queue_urls(base, loaded)
    if client.get(urls[0][1]).status_code == 404:
        return [], {}
    every: list[float] = []
    by_kind: dict[str, list[float]] = defaultdict(list)
    for i in range(requests):
        kind, url = urls[i % len(urls)]
        ms, answer = timed(client, url)
        assert answer.status_code == 200, (url, answer.status_code, answer.text[:300])
        every.append(ms)
        by_kind[kind].append(ms)
    return every, by_kind


def time_cases(client: Any, template: str, ids: list[str], requests: int, rng: random.Random) -> list[float]:
    if client.get(template.format(id=ids[0])).status_code == 404:
        return []
    every = []
    for app_id in rng.sample(ids, min(requests, len(ids))):
        ms, answer = timed(client, template.format(id=app_id))
        assert answer.status_code == 200, (app_id, answer.status_code, answer.text[:300])
        every.append(ms)
    return every


def sign_in(client: Any, username: str) -> None:
    page = client.get("/review/login")
    token = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
    assert token, "no CSRF token on the sign-in page"
    answer = client.post("/review/login", data={"username": username, "password": PASSWORD,
                                                "csrftoken": token.group(1)}, follow_redirects=False)
    assert answer.status_code == 303, (answer.status_code, answer.text[:300])


def case_page_weight(client: Any, app_id: str) -> None:
    """Bytes of the 6-document case page (HTML and its <img>s) and the images' load times."""
    html = client.get(PAGE_CASE.format(id=app_id))
    if html.status_code != 200:
        print(f"  the case page {PAGE_CASE} answered {html.status_code}: not built yet, nothing to weigh")
        return
    sources = list(dict.fromkeys(re.findall(r'<img[^>]+src="([^"]+)"', html.text)))
    styles = re.findall(r'<link[^>]+href="([^"]+\.css)"', html.text) + re.findall(r'<script[^>]+src="([^"]+)"',
                                                                                  html.text)
    loads = {}
    for label in ("first load (drawn)", "again (cached)"):
        sizes, t0 = [], time.perf_counter()
        for src in sources:
            answer = client.get(src.replace("&amp;", "&"))
            assert answer.status_code == 200, (src, answer.status_code)
            sizes.append(len(answer.content))
        loads[label] = ((time.perf_counter() - t0) * 1000, sizes)
    sizes = loads["again (cached)"][1]
    assets = sum(len(client.get(s).content) for s in styles)
    kinds = sorted({a.headers.get("content-type", "?") for a in (client.get(s.replace("&amp;", "&"))
                                                                 for s in sources[:1])})
    print(f"  HTML {len(html.content) / 1024:.1f} KiB; {len(sources)} page images {sum(sizes) / 1024:.0f} KiB "
          f"({', '.join(kinds) or 'none'}; largest {max(sizes or [0]) / 1024:.0f} KiB); styles and scripts "
          f"{assets / 1024:.1f} KiB; total {(len(html.content) + sum(sizes) + assets) / 1024:.0f} KiB")
    for label, (ms, _) in loads.items():
        print(f"  images, {label:<20} {ms:7.0f} ms for all {len(sources)} one after another "
              f"({ms / max(len(sources), 1):.0f} ms each)")


# --- main -----------------------------------------------------------------------------------------------


def add_users(db_url: str) -> dict[str, int]:
    from intake.db import session_factory
    from intake.users import add_user

    ids = {}
    with session_factory(db_url).begin() as session:
        for username in REVIEWERS:
            ids[username] = add_user(session, username=username, display_name=username, role="reviewer",
                                     regions=[REGION], password=PASSWORD, actor="bench").id
        ids["boss"] = add_user(session, username="boss", display_name="科长", role="supervisor",
                               regions=[r for r, _ in REGIONS], password=PASSWORD, actor="bench").id
    return ids


def add_channels(db_url: str) -> None:
    from intake.db import session_factory
    from intake.models import Channel

    with session_factory(db_url).begin() as session:
        for channel_id, _ in CHANNELS:
            if session.get(Channel, channel_id) is None:
                session.add(Channel(id=channel_id, name=channel_id, role="app", api_key_sha256=uuid.uuid4().hex * 2,
                                    callback_secret="bench"))


@contextlib.contextmanager
def app_client(settings: Any) -> Iterator[Any]:
    """The real app on the bench database, in this process."""
    from fastapi.testclient import TestClient

    from api.app import app
    from api.deps import current_settings
    from intake.settings import get_settings

    os.environ["INTAKE_DB__URL"] = settings.db.url
    os.environ["INTAKE_STORAGE__ROOT"] = str(settings.storage.root)
    get_settings.cache_clear()
    app.dependency_overrides[current_settings] = lambda: settings
    try:
        with TestClient(app) as client:
            yield client
    finally:
        app.dependency_overrides.clear()


@contextlib.contextmanager
def bench_database(tmp: Path, keep: bool) -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards (``_service.fresh_database``) unless ``keep``."""
    if not keep:
        try:
            with fresh_database("postgres", tmp) as url:
                yield url
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # the file store and the drawn page images
        return
    import sqlalchemy

    from intake.db import get_engine

    name = f"bench_review_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    get_engine(url, False)
    yield url
    print(f"\nkept the database {url} and the files under {tmp} (--keep): DROP DATABASE \"{name}\" when done")


def run(cases: int, requests: int, cache: Path, explain: bool, keep: bool = False) -> None:
    import api.app  # noqa: F401  # before minutes of loading: a broken import fails now
    from intake.db import get_engine
    from intake.settings import Settings

    print(f"reviewers' workspace: {cases} cases in PostgreSQL ({machine_load()})", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-review-"))
    with bench_database(tmp, keep) as db_url:
        settings = Settings(db={"url": db_url}, storage={"root": tmp / "files"})
        real = real_case(settings, cache)
        user_ids = add_users(db_url)
        add_channels(db_url)
        t0 = time.perf_counter()
        loaded = load_cases(db_url, real, cases, user_ids)
        loaded.region_cases.append(real.application_id)
        engine = get_engine(db_url, False)  # the app's engine: session_factory's call, argument for argument
        with engine.connect() as conn:
            from sqlalchemy import text

            size = conn.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar()
        print(f"  loaded {dict(loaded.rows)} in {time.perf_counter() - t0:.0f} s (COPY, then ANALYZE); "
              f"database {size}; {len(loaded.region_cases)} cases of {REGION} wait for a reviewer", flush=True)

        slow = SlowStatements(engine)
        rng = random.Random(7)
        with app_client(settings) as client:
            sign_in(client, "reviewer")
            print(f"\nserver time per request, in-process through the ASGI app, signed in as a reviewer of {REGION}:")
            results = {}
            for name, base in (("queue page", PAGE_QUEUE), ("queue, JSON API", API_QUEUE)):
                client.get(base)  # warm: first use of the route, templates compiled
                with slow.watching() as seen:
                    every, by_kind = time_queue(client, base, loaded, requests)
                results[name] = (every, by_kind, list(seen))
                print(summary(name, every, QUEUE_TARGET_MS if name == "queue page" else None), flush=True)
                for kind, ms in by_kind.items():
                    print(f"      {kind:<28} median {statistics.median(ms):6.1f} ms   max {max(ms):6.1f} ms")
            for name, template in (("case page", PAGE_CASE), ("case, JSON API", API_CASE)):
                client.get(template.format(id=real.application_id))  # warm
                with slow.watching() as seen:
                    every = time_cases(client, template, loaded.region_cases, requests, rng)
                results[name] = (every, {}, list(seen))
                print(summary(name, every, CASE_TARGET_MS if name == "case page" else None), flush=True)
            client.cookies.clear()
            sign_in(client, "boss")
            for name, url in (("dashboard page (12 weeks)", "/review/dashboard"),
                              ("dashboard, JSON API", "/v1/workspace/dashboard")):
                ms = [timed(client, url)[0] for _ in range(5)]
                print(summary(name, ms), flush=True)
            client.cookies.clear()
            sign_in(client, "reviewer")

            print("\nslowest SQL statements while timing the queue and the case page:")
            for name in ("queue page", "queue, JSON API", "case page"):
                for ms, sql, _params in SlowStatements.slowest(results[name][2], 2):
                    print(f"  [{name}] {ms:6.1f} ms  {' '.join(sql.split())[:160]}")
            if explain:
                worst = SlowStatements.slowest(results["queue, JSON API"][2], 1)
                if worst:
                    _, sql, params = worst[0]
                    with engine.connect() as conn:
                        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).all()
                    print("\nEXPLAIN ANALYZE of the slowest queue statement:")
                    print("\n".join("  " + r[0] for r in plan))

            print(f"\nthe 6-document case page ({real.application_id}):")
            case_page_weight(client, real.application_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000, help="applications bulk-loaded (100000)")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page (100)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "bench_review_ocr_cache.db",
                        help="SQLite file caching the sample's OCR results between runs")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest queue statement")
    parser.add_argument("--keep", action="store_true", help="keep the loaded database (to study a query)")
    args = parser.parse_args()
    run(args.cases, args.requests, args.cache, args.explain, args.keep)


if __name__ == "__main__":
    main()
