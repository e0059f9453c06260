"""Screenshots of the reviewers' workspace for the README, made from the demo data.

In a temporary deployment (a SQLite file and a file store under a temporary folder; nothing of the
working tree's ``var/`` is touched): ``intake demo`` pre-screens the bundled sample applications
through the real pipeline, ``intake user add`` creates a reviewer (绥化市, 六盘水市) and a supervisor
(every region), ``intake serve`` runs on a free port, and Playwright drives Debian's Chromium
(``/usr/bin/chromium``; no browser download) to sign in and save, under ``docs/screenshots/``:

- ``queue.png``: the reviewer's queue;
- ``case.png``: a case page with the fields and the seal drawn as boxes on the page images;
- ``dashboard.png``: the supervisor's dashboard, after the reviewer approved, rejected and asked
  for a supplement on three cases (through the workspace's JSON API, as the pages' scripts do).

Screenshots are 1280 px wide and reduced to a 256-colour palette (Pillow), a few hundred KB each.
A page not built yet (404) is reported and skipped; the others are still taken.

    .venv/bin/python scripts/screenshots.py                  # every sample (a few minutes of OCR)
    .venv/bin/python scripts/screenshots.py --samples c01 c03 c06 c10   # faster, fewer cases
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "screenshots"
SAMPLES = REPO / "fixtures" / "samples"
CHROMIUM = "/usr/bin/chromium"
WIDTH = 1280
PASSWORD = "screenshots-only-" + secrets.token_hex(4)
REVIEWER = ("wangli", "王丽", "reviewer", ["绥化市", "六盘水市"])
SUPERVISOR = ("zhaomin", "赵敏", "supervisor", ["绥化市", "六盘水市", "神农架林区"])
CASE_SHOWN = "c01_suihua_ready_diabetes"  # the case page shot: a ready case with a seal and every field boxed
# Decisions made before the dashboard is shot: (sample, decision body).
DECISIONS = [
    ("c01_suihua_ready_diabetes", {"decision": "approve"}),
    ("c10_suihua_identity_mismatch", {"decision": "reject", "reasons": ["diagnosis_mismatch"]}),
    ("c06_suihua_seal_missing", {"decision": "request_supplement"}),
    ("c03_liupanshui_ready_cancer_heic_multipage", {"decision": "approve"}),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def intake(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "intake.cli", *args], env=env, cwd=REPO, input=stdin,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"intake {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


def demo_samples(names: list[str] | None, into: Path) -> Path:
    """The samples folder for ``intake demo``: all of them, or links to those named (prefixes)."""
    if not names:
        return SAMPLES
    folder = into / "samples"
    folder.mkdir()
    for sample in sorted(p for p in SAMPLES.iterdir() if (p / "application.json").is_file()):
        if any(sample.name.startswith(n) for n in names):
            (folder / sample.name).symlink_to(sample)
    return folder


@contextlib.contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[str]:
    """``intake serve`` on a free port until the block ends (stopped by its process group id)."""
    import httpx

    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "intake.cli", "serve", "--port", str(port)], env=env, cwd=REPO,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                raise SystemExit(f"intake serve exited ({proc.returncode}); see {log}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            raise SystemExit(f"intake serve did not answer; see {log}")
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def optimise(path: Path) -> int:
    """A 256-colour palette PNG (UI colours survive; page photos lose a little): bytes written."""
    from PIL import Image

    with Image.open(path) as shot:
        small = shot.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)
    return path.stat().st_size


def sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.context.clear_cookies()
    page.goto(f"{base}/review/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def shoot(page, base: str, path: str, out: Path, *, max_height: int = 2000) -> bool:  # type: ignore[no-untyped-def]
    answer = page.goto(base + path)
    if answer is None or answer.status != 200:
        print(f"  {path}: {answer.status if answer else 'no answer'} — not built yet? skipped {out.name}")
        return False
    page.evaluate("document.querySelectorAll('img[loading=lazy]').forEach(i => { i.loading = 'eager'; })")
    page.wait_for_load_state("networkidle")
    with contextlib.suppress(Exception):  # every page image decoded before the shot
        page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=30_000)
    height = min(page.evaluate("document.documentElement.scrollHeight"), max_height)
    page.screenshot(path=str(out), clip={"x": 0, "y": 0, "width": WIDTH, "height": height}, full_page=True)
    print(f"  {out.relative_to(REPO)}: {WIDTH}×{height}, {optimise(out) / 1024:.0f} KiB")
    return True


def application_id(page, base: str, sample: str) -> str | None:  # type: ignore[no-untyped-def]
    """The application of a sample folder (its external reference), through the JSON API."""
    answer = page.request.get(f"{base}/v1/workspace/queue", params={"status": "all", "q": sample})
    items = answer.json().get("items", []) if answer.ok else []
    return items[0]["application_id"] if items else None


def decide(page, base: str) -> None:  # type: ignore[no-untyped-def]
    token = next((c["value"] for c in page.context.cookies() if c["name"] == "csrftoken"), "")
    for sample, body in DECISIONS:
        app_id = application_id(page, base, sample)
        if app_id is None:
            continue
        answer = page.request.post(f"{base}/v1/workspace/cases/{app_id}/decision", data=body,
                                   headers={"X-CSRFToken": token})
        print(f"  {body['decision']} {sample}: {answer.status}")


def take(base: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": 900}, device_scale_factor=1, locale="zh-CN")
            sign_in(page, base, REVIEWER[0])
            shoot(page, base, "/review/queue", out / "queue.png")
            case = application_id(page, base, CASE_SHOWN)
            if case is None:
                print(f"  {CASE_SHOWN} is not among the demo cases: no case page shot")
            else:
                shoot(page, base, f"/review/cases/{case}", out / "case.png", max_height=1400)
            decide(page, base)
            sign_in(page, base, SUPERVISOR[0])
            shoot(page, base, "/review/dashboard", out / "dashboard.png", max_height=2400)
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", nargs="*", help="only the samples whose folder names start with these")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where the PNGs go ({OUT.relative_to(REPO)})")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: `bash scripts/setup.sh --test` installs Debian's chromium")
    tmp = Path(tempfile.mkdtemp(prefix="intake-screenshots-"))
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
        env.update({"INTAKE_DB__URL": f"sqlite:///{tmp / 'demo.db'}", "INTAKE_STORAGE__ROOT": str(tmp / "files"),
                    "INTAKE_SESSION__SECRET": secrets.token_urlsafe(32), "PYTHONPATH": str(REPO),
                    "PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK": "True"})
        t0 = time.perf_counter()
        print("intake demo (the sample applications through the real pipeline) …", flush=True)
        intake(env, "demo", "--samples", str(demo_samples(args.samples, tmp)))
        print(f"  done in {time.perf_counter() - t0:.0f} s", flush=True)
        for username, name, role, regions in (REVIEWER, SUPERVISOR):
            intake(env, "user", "add", username, "--role", role, "--name", name,
                   *[a for r in regions for a in ("--region", r)], "--password-stdin", stdin=PASSWORD + "\n")
        args.out.mkdir(parents=True, exist_ok=True)
        with serving(env, tmp / "serve.log") as base:
            take(base, args.out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
