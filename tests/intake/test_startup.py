"""Start-up checks: a wrong setting or deployment file stops a process at start, with a message that
names the setting to fix, the path and what is wrong; long-running commands log with timestamps."""

from __future__ import annotations

import logging
import logging.config
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import intake.worker
from intake.cli import app as cli
from intake.errors import ConfigurationError, PolicyError, RegistryInvalid
from intake.settings import POLICIES_DIR, REPO_ROOT, Settings, get_settings
from intake.startup import (
    LOG_FORMAT,
    check_configuration,
    check_policies,
    check_registry,
    configure_logging,
    read_settings,
    uvicorn_log_config,
)

REGISTRY_CSV = REPO_ROOT / "fixtures" / "registry" / "hospitals.csv"
HEADER = "name,aliases,grade,region\n"
EXTRAS = "region: 六盘水市\ndisease_extras:\n  {disease}:\n    p: {{doc_types: [lab_report], label: 病理诊断报告}}\n"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _settings_from_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test reads the settings afresh from its own environment (and no INTAKE_* of the shell)."""
    for name in [n for n in os.environ if n.startswith("INTAKE_")]:
        monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root, rq_logger = logging.getLogger(), logging.getLogger("rq.worker")
    handlers, level, rq_level = root.handlers[:], root.level, rq_logger.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    rq_logger.setLevel(rq_level)


def settings(**changes: Any) -> Settings:
    return Settings(**{"registry_path": REGISTRY_CSV, "policies_dir": POLICIES_DIR, **changes})


def policies_with(tmp_path: Path, files: dict[str, str]) -> Path:
    """A copy of the bundled policies, with ``files`` (name -> YAML) written over it."""
    directory = tmp_path / "policies"
    directory.mkdir()
    for path in POLICIES_DIR.glob("*.yaml"):
        (directory / path.name).write_text(path.read_text("utf-8"), "utf-8")
    for name, text in files.items():
        (directory / name).write_text(textwrap.dedent(text), "utf-8")
    return directory


# --- the whole check ---------------------------------------------------------------------------------


def test_the_bundled_configuration_passes() -> None:
    check_configuration(settings())


def test_the_default_settings_pass() -> None:
    check_configuration(read_settings())


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    """GIVEN a missing registry and a missing policies folder THEN one error names both settings."""
    with pytest.raises(ConfigurationError) as info:
        check_configuration(settings(registry_path=tmp_path / "no.csv", policies_dir=tmp_path / "nope"))
    assert "INTAKE_POLICIES_DIR" in str(info.value)
    assert "INTAKE_REGISTRY_PATH" in str(info.value)


def test_an_invalid_setting_names_its_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_UNKNOWN_REGION", "accept")
    with pytest.raises(ConfigurationError, match="INTAKE_UNKNOWN_REGION: Input should be 'refuse' or 'default'"):
        read_settings()


# --- the hospital registry -----------------------------------------------------------------------------


def test_a_missing_registry_names_the_setting_and_the_path(tmp_path: Path) -> None:
    path = tmp_path / "hospitals.csv"
    with pytest.raises(RegistryInvalid) as info:
        check_configuration(settings(registry_path=path))
    assert isinstance(info.value, ConfigurationError)
    assert str(info.value).startswith(f"INTAKE_REGISTRY_PATH={path}: no such file; set INTAKE_REGISTRY_PATH")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "empty file: no header"),
        ("\n\n", "empty file: no header"),
        ("name,grade\n绥化市第一医院,三级甲等\n",
         "line 1: header must be 'name,aliases,grade,region', got 'name,grade'"),
        (HEADER + "绥化市第一医院,,三级甲等,绥化市\n绥化市第二医院,,四级,绥化市\n",
         "line 3: grade '四级' of 绥化市第二医院 is not a grade"),
        (HEADER + "绥化市第一医院,,三级甲等\n", "line 2: expected 4 columns, got 3"),
        (HEADER + ",,三级甲等,绥化市\n", "line 2: empty hospital name"),
        (HEADER + "绥化市第一医院,,三级甲等,绥化市\n绥化市第一医院,,三级甲等,绥化市\n",
         "line 3: 绥化市第一医院 is listed twice (first on line 2)"),
        (HEADER, "the file has a header but no hospitals"),
        (b"\xff\xfename", "not UTF-8 text"),
    ],
    ids=["empty", "blank-lines", "bad-header", "bad-grade", "three-columns", "no-name", "twice", "no-hospitals",
         "not-utf8"],
)
def test_a_malformed_registry_says_what_is_wrong_where(tmp_path: Path, content: str | bytes, problem: str) -> None:
    path = tmp_path / "hospitals.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, "utf-8")
    with pytest.raises(RegistryInvalid) as info:
        check_registry(path)
    message = str(info.value)
    assert message.startswith(f"INTAKE_REGISTRY_PATH={path}: {problem}")
    assert message.endswith("set INTAKE_REGISTRY_PATH to the registry CSV (a UTF-8 CSV with the header "
                            "name,aliases,grade,region)")


def test_a_registry_path_that_is_a_folder_is_explained(tmp_path: Path) -> None:
    with pytest.raises(RegistryInvalid, match=r"is a directory; set INTAKE_REGISTRY_PATH to the registry CSV"):
        check_registry(tmp_path)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_registry_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "hospitals.csv"
    path.write_text(HEADER + "绥化市第一医院,,三级甲等,绥化市\n", "utf-8")
    path.chmod(0)
    with pytest.raises(RegistryInvalid, match="cannot be read: permission denied"):
        check_registry(path)


# --- the region policies ---------------------------------------------------------------------------------


def test_a_missing_policies_folder_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as info:
        check_configuration(settings(policies_dir=tmp_path / "policies"))
    assert str(info.value).startswith(f"INTAKE_POLICIES_DIR={tmp_path / 'policies'}: no such directory; "
                                      "set INTAKE_POLICIES_DIR")


def test_a_policies_folder_without_default_yaml_is_explained(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"there is no default\.yaml"):
        check_policies(tmp_path)


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"suihua.yaml": "region: 绥化市\nseal_requird: [lab_report]\n"},
         "suihua.yaml: unknown key seal_requird (the keys are"),
        ({"suihua.yaml": "region: 绥化市\nmin_grade: {diagnosis_certficate: 二级}\n"},
         "suihua.yaml is invalid: min_grade.diagnosis_certficate.[key]: Input should be"),
        ({"suihua.yaml": "region: 绥化市\nrequired_materials:\n  x: {doc_types: [lab_report], lable: 化验单}\n"},
         "suihua.yaml: required_materials.x: unknown key lable"),
        ({"suihua.yaml": "region: 绥化市\nreview_sla_working_days: soon\n"},
         "suihua.yaml is invalid: review_sla_working_days: Input should be a valid number"),
        ({"suihua.yaml": "name: 黑龙江省绥化市\n"}, "suihua.yaml: has no region: key"),
        ({"suihua.yaml": "region: [绥化市\n"}, "suihua.yaml: is not valid YAML"),
        ({"suihua.yaml": "- region: 绥化市\n"}, "suihua.yaml: must hold a mapping of policy keys, not list"),
        ({"suihua.yaml": "region: 绥化市\nmin_grade: {diagnosis_certificate: 高级}\n"},
         "the policy of 绥化市: min_grade of diagnosis_certificate is '高级', not a grade"),
        ({"liupanshui.yaml": EXTRAS.format(disease="肿瘤病")},
         "the policy of 六盘水市: disease_extras names '肿瘤病', which is not a 病种 of the catalogue"),
        ({"liupanshui.yaml": EXTRAS.format(disease="2型糖尿病")},
         "disease_extras names '2型糖尿病': write the catalogue's name '糖尿病'"),
        ({"extra.yaml": "region: 绥化市\n"}, "two policy files name the region '绥化市'"),
        ({"default.yaml": "region: 全国\n"}, "default.yaml: must say region: default"),
    ],
    ids=["unknown-key", "unknown-doc-type", "unknown-rule-key", "bad-value", "no-region", "bad-yaml", "not-mapping",
         "bad-grade", "unknown-disease", "disease-alias", "region-twice", "default-region"],
)
def test_a_bad_policy_file_names_the_setting_and_the_problem(tmp_path: Path, files: dict[str, str],
                                                             problem: str) -> None:
    directory = policies_with(tmp_path, files)
    with pytest.raises(PolicyError) as info:
        check_configuration(settings(policies_dir=directory))
    assert isinstance(info.value, ConfigurationError)
    message = str(info.value)
    assert message.startswith(f"INTAKE_POLICIES_DIR={directory}: ")
    assert problem in message
    assert "https://errors.pydantic.dev" not in message


# --- the commands ------------------------------------------------------------------------------------------


@pytest.fixture
def no_worker(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The worker is not run (no Redis, no OCR models); its arguments are recorded instead."""
    calls: list[dict[str, Any]] = []

    def run_worker(settings: Settings, **kwargs: Any) -> int:
        calls.append(kwargs)
        return 0

    def supervise(argv: list[str]) -> int:
        calls.append({"supervised": argv})
        return 0

    monkeypatch.setattr(intake.worker, "run_worker", run_worker)
    monkeypatch.setattr(intake.worker, "supervise", supervise)
    return calls


def test_worker_with_a_bad_registry_stops_before_redis_or_models(
    monkeypatch: pytest.MonkeyPatch, no_worker: list[dict[str, Any]]
) -> None:
    monkeypatch.setenv("INTAKE_REGISTRY_PATH", "/nonexistent.csv")
    monkeypatch.setenv("INTAKE_REDIS__URL", "redis://127.0.0.1:1/0")  # nothing listens: connecting would fail
    result = runner.invoke(cli, ["worker", "--burst"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: INTAKE_REGISTRY_PATH=/nonexistent.csv: no such file")
    assert "Traceback" not in result.output
    assert no_worker == []


def test_supervised_worker_with_a_bad_policies_folder_starts_no_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_worker: list[dict[str, Any]]
) -> None:
    monkeypatch.setenv("INTAKE_POLICIES_DIR", str(tmp_path))
    result = runner.invoke(cli, ["worker"])
    assert result.exit_code == 2
    assert "error: INTAKE_POLICIES_DIR=" in result.stderr
    assert no_worker == []


def test_reconcile_with_a_bad_registry_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    import intake.reconcile

    monkeypatch.setattr(intake.reconcile, "reconcile", lambda *a, **k: pytest.fail("reconciled"))
    monkeypatch.setenv("INTAKE_REGISTRY_PATH", "/nonexistent.csv")
    result = runner.invoke(cli, ["reconcile"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: INTAKE_REGISTRY_PATH=/nonexistent.csv")


def test_serve_with_a_bad_setting_starts_no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("the server started"))
    monkeypatch.setenv("INTAKE_UNKNOWN_REGION", "sometimes")
    result = runner.invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: invalid setting (environment or .env): INTAKE_UNKNOWN_REGION")


def test_worker_logs_at_info_unless_quiet(no_worker: list[dict[str, Any]]) -> None:
    assert runner.invoke(cli, ["worker", "--burst"]).exit_code == 0
    assert logging.getLogger().level == logging.INFO
    assert runner.invoke(cli, ["worker", "--burst", "--quiet"]).exit_code == 0
    assert logging.getLogger().level == logging.WARNING
    assert [c["logging_level"] for c in no_worker] == ["INFO", "WARNING"]


def test_the_supervisor_passes_quiet_to_its_workers(no_worker: list[dict[str, Any]]) -> None:
    assert runner.invoke(cli, ["worker", "--quiet", "-q", "ocr"]).exit_code == 0
    argv = no_worker[0]["supervised"]
    assert argv[:2] == ["--queue", "ocr"]
    assert "--quiet" in argv


# --- the API -----------------------------------------------------------------------------------------------


def test_the_api_does_not_start_with_a_bad_registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """GIVEN INTAKE_REGISTRY_PATH names a registry with a bad grade WHEN the app starts THEN it stops."""
    from api.app import app

    path = tmp_path / "hospitals.csv"
    path.write_text(HEADER + "绥化市第一医院,,五星,绥化市\n", "utf-8")
    monkeypatch.setenv("INTAKE_REGISTRY_PATH", str(path))
    get_settings.cache_clear()
    expected = f"INTAKE_REGISTRY_PATH={re.escape(str(path))}: line 2: grade '五星'"
    with pytest.raises(RegistryInvalid, match=expected), TestClient(app):
        pass


def test_the_api_starts_with_a_good_configuration() -> None:
    from api.app import app

    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200


def test_the_checks_load_no_ocr_models() -> None:
    """The API process runs the checks: they must not import paddle, onnxruntime or the OCR engine
    beyond what ``intake.settings`` itself imports."""
    heavy = ("paddle", "paddleocr", "paddlex", "onnxruntime", "ocr.engine")
    code = textwrap.dedent(f"""
        import sys
        heavy = {heavy!r}
        loaded = lambda: {{m for m in sys.modules if m.startswith(heavy)}}
        import intake.settings
        before = loaded()
        import intake.startup
        intake.startup.check_configuration(intake.settings.get_settings())
        print(sorted(loaded() - before), sorted(m for m in loaded() if not m.startswith("ocr.")))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    assert out.stdout.strip() == "[] []"


# --- logging -----------------------------------------------------------------------------------------------


def test_configure_logging_writes_timestamped_records_to_stderr_once(capsys: pytest.CaptureFixture[str]) -> None:
    logging.getLogger().addHandler(logging.StreamHandler(sys.stderr))  # as logging.basicConfig adds one
    configure_logging("INFO")
    configure_logging("INFO")  # again: still one handler of ours
    logging.getLogger("intake.test").info("started")
    logging.getLogger("intake.test").debug("not shown")
    lines = capsys.readouterr().err.splitlines()
    assert len([line for line in lines if line.endswith("started")]) == 1
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d{4} INFO intake\.test: started$", lines[-1])


def test_quiet_logging_shows_warnings_only(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("WARNING")
    logging.getLogger("intake.test").info("hidden")
    logging.getLogger("intake.test").warning("shown")
    err = capsys.readouterr().err
    assert "hidden" not in err
    assert "WARNING intake.test: shown" in err


def test_uvicorn_logs_with_timestamps_and_passes_the_app_loggers() -> None:
    config = uvicorn_log_config("info")
    assert config["formatters"]["default"]["fmt"].startswith("%(asctime)s ")
    assert config["formatters"]["intake"]["format"] == LOG_FORMAT
    assert config["root"] == {"handlers": ["intake"], "level": "INFO"}
    loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = [(lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    try:
        logging.config.dictConfig(config)  # a configuration logging accepts
    finally:
        for lg, (handlers, level, propagate) in zip(loggers, saved, strict=True):
            lg.handlers[:], lg.propagate = handlers, propagate
            lg.setLevel(level)
