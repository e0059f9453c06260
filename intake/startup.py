"""What a long-running process checks before it starts: its settings and the deployment files they
name (region policies, hospital registry, disease catalogue, working-day calendar), and where it logs.

A wrong file stops the process at start with a message naming the setting to fix, the path and what
is wrong. Found later, inside a job, it would read as a problem with the applicant's documents (a
hospital "not in the registry", a grade "that cannot be compared").

The OCR stack (paddleocr, onnxruntime, the engine) is not loaded here: the API process runs these
checks too and never reads a document.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from classifiers.diagnosis import DISEASES_PATH, ICD10_PATH, CatalogueError, DiseaseCatalogue
from classifiers.hospital import EXPECTED_HEADER, HospitalRegistry, RegistryError, grade_rank
from intake import clock
from intake.errors import ConfigurationError, PolicyError, RegistryInvalid
from intake.policy import DEFAULT_REGION, MaterialRule, Policy, PolicyBook
from intake.settings import POLICIES_DIR, Settings, get_settings
from intake.workdays import WorkCalendar

POLICIES_SETTING = "INTAKE_POLICIES_DIR"
REGISTRY_SETTING = "INTAKE_REGISTRY_PATH"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_DATE_FORMAT = "%Y-%m-%d %H:%M:%S%z"
# Libraries whose INFO records say nothing an operator needs (alembic lists its plugins at import).
_CHATTY_LOGGERS = ("alembic.runtime.plugins",)


def read_settings() -> Settings:
    """The process's settings (``get_settings()``), or ``ConfigurationError`` naming the variable."""
    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"INTAKE_{'__'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(f"invalid setting (environment or .env): {problems}") from exc


def check_configuration(settings: Settings) -> None:
    """Load the policies, the hospital registry and the disease catalogue as the process will use
    them; ``ConfigurationError`` (``PolicyError``, ``RegistryInvalid``) with every problem found."""
    problems: list[ConfigurationError] = []
    catalogue: DiseaseCatalogue | None = None
    try:
        catalogue = check_catalogue()
    except ConfigurationError as exc:
        problems.append(exc)
    for check in (lambda: check_policies(settings.policies_dir, catalogue),
                  lambda: check_registry(settings.registry_path),
                  lambda: WorkCalendar.load(settings.workdays_dir)):
        try:
            check()
        except ConfigurationError as exc:
            problems.append(exc)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ConfigurationError("\n".join(str(p) for p in problems)) from problems[0]


def startup_settings() -> Settings:
    """The process's settings, read and checked (``read_settings`` then ``check_configuration``)."""
    settings = read_settings()
    check_configuration(settings)
    return settings


# --- the disease catalogue ----------------------------------------------------------------------------


def check_catalogue() -> DiseaseCatalogue:
    """The disease catalogue shipped with the code (``classifiers/data``): readable and not empty."""
    restore = "it ships with the code: restore the file or reinstall"
    try:
        catalogue = DiseaseCatalogue.load()
    except (CatalogueError, OSError) as exc:
        raise ConfigurationError(f"the disease catalogue cannot be loaded: {exc}; {restore}") from exc
    if not catalogue.diseases:
        raise ConfigurationError(f"the disease catalogue {DISEASES_PATH} lists no 病种; {restore}")
    if not ICD10_PATH.is_file() or not catalogue.icd10_names:
        # Without it the diagnosis check cannot tell a contradicting diagnosis from a vague one.
        raise ConfigurationError(f"the ICD-10 category table {ICD10_PATH} is missing or empty; {restore}")
    return catalogue


# --- the working-day calendar -------------------------------------------------------------------------


def warn_about_calendar(settings: Settings, today: dt.date | None = None) -> list[str]:
    """Log a warning for each holiday-schedule year an operator must add by ``today`` (China's date by
    default): this year, and from November on next year. Deadlines in a missing year are only estimates.
    Returns the warnings (the schedule's file errors are ``check_configuration``'s)."""
    calendar = WorkCalendar.load(settings.workdays_dir)
    warnings = calendar.warnings(today or clock.local_date())
    for warning in warnings:
        logging.getLogger("intake.startup").warning("%s", warning)
    return warnings


# --- the region policies ------------------------------------------------------------------------------


def check_policies(directory: Path, catalogue: DiseaseCatalogue | None = None) -> PolicyBook:
    """The policies of ``INTAKE_POLICIES_DIR``: every file readable, every key known, every value valid;
    with ``catalogue``, every ``disease_extras`` 病种 named as the catalogue names it."""
    where = f"{POLICIES_SETTING}={directory}"
    fix = (
        f"fix the file, or set {POLICIES_SETTING} to a folder of valid policy files "
        f"(the bundled ones are in {POLICIES_DIR})"
    )
    if not directory.exists():
        raise PolicyError(f"{where}: no such directory; set {POLICIES_SETTING} to the folder holding default.yaml "
                          f"and the region policy files (the bundled ones are in {POLICIES_DIR})")
    if not directory.is_dir():
        raise PolicyError(f"{where}: not a directory; set {POLICIES_SETTING} to the folder holding default.yaml")
    if not (directory / "default.yaml").is_file():
        raise PolicyError(f"{where}: there is no default.yaml (the policy every region starts from); set "
                          f"{POLICIES_SETTING} to a folder that has one (the bundled ones are in {POLICIES_DIR})")
    try:
        paths = sorted(directory.glob("*.yaml"))
    except OSError as exc:
        raise PolicyError(f"{where}: cannot list the directory: {exc.strerror or exc}") from exc
    for path in paths:
        problem = _policy_file_problem(path)
        if problem:
            raise PolicyError(f"{where}: {path.name}: {problem}; {fix}")
    try:
        book = PolicyBook.load(directory)
    except PolicyError as exc:
        raise PolicyError(f"{where}: {_policy_error_text(exc)}; {fix}") from exc
    for policy in book.policies.values():
        problem = _policy_value_problem(policy, catalogue)
        if problem:
            raise PolicyError(f"{where}: the policy of {policy.region}: {problem}; {fix}")
    return book


_POLICY_KEYS = frozenset(Policy.model_fields)
_RULE_KEYS = frozenset(MaterialRule.model_fields)


def _policy_file_problem(path: Path) -> str | None:
    """Keys pydantic would silently drop (a typo turns a region's override into the default)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    except UnicodeDecodeError as exc:
        return f"is not UTF-8 text ({exc.reason})"
    except yaml.YAMLError as exc:
        return f"is not valid YAML: {exc}"
    if not isinstance(data, dict):
        return f"must hold a mapping of policy keys, not {type(data).__name__}"
    unknown = sorted(str(k) for k in data if k not in _POLICY_KEYS)
    if unknown:
        return f"unknown key {', '.join(unknown)} (the keys are {', '.join(sorted(_POLICY_KEYS))})"
    if path.name != "default.yaml" and not data.get("region"):
        return "has no region: key; name the region it is for (e.g. region: 绥化市)"
    if path.name == "default.yaml" and data.get("region") != DEFAULT_REGION:
        return f"must say region: {DEFAULT_REGION}"
    rules: list[tuple[str, Any]] = [(f"required_materials.{k}", v) for k, v in _mapping(data, "required_materials")]
    for disease, extras in _mapping(data, "disease_extras"):
        if isinstance(extras, dict):
            rules += [(f"disease_extras.{disease}.{k}", v) for k, v in extras.items()]
    for name, rule in rules:
        if isinstance(rule, dict):
            unknown = sorted(str(k) for k in rule if k not in _RULE_KEYS)
            if unknown:
                return f"{name}: unknown key {', '.join(unknown)} (the keys are {', '.join(sorted(_RULE_KEYS))})"
    return None


def _mapping(data: dict[str, Any], key: str) -> list[tuple[str, Any]]:
    value = data.get(key)
    return [(str(k), v) for k, v in value.items()] if isinstance(value, dict) else []


def _policy_error_text(exc: PolicyError) -> str:
    """The error without pydantic's boilerplate (input values, documentation links)."""
    cause = exc.__cause__
    if isinstance(cause, ValidationError):
        head = str(exc).split(" is invalid:", 1)[0]
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in cause.errors())
        return f"{head} is invalid: {problems}"
    return str(exc)


def _policy_value_problem(policy: Policy, catalogue: DiseaseCatalogue | None) -> str | None:
    """Values pydantic accepts but the checks cannot use: they would show up as unknown outcomes."""
    for doc_type, grade in policy.min_grade.items():
        if grade_rank(grade) is None:
            return f"min_grade of {doc_type.value} is {grade!r}, not a grade (e.g. 二级, 三级甲等)"
    if catalogue is not None:
        for disease in policy.disease_extras:
            found = catalogue.find(disease)
            if found is None:
                return f"disease_extras names {disease!r}, which is not a 病种 of the catalogue {DISEASES_PATH}"
            if found.name != disease:
                return f"disease_extras names {disease!r}: write the catalogue's name {found.name!r}"
        from intake.regions import list_problems

        if listed := list_problems(policy.disease_list, catalogue):
            return f"disease_list: {listed[0]} ({DISEASES_PATH})"
        for disease in policy.qualification_validity.diseases:
            found = catalogue.find(disease)
            if found is None or found.name != disease:
                return f"qualification_validity names {disease!r}, which is not a 病种 name of the catalogue"
    return None


# --- the hospital registry ----------------------------------------------------------------------------


def check_registry(path: Path) -> HospitalRegistry:
    """The hospital registry of ``INTAKE_REGISTRY_PATH``: a readable CSV with at least one hospital."""
    where = f"{REGISTRY_SETTING}={path}"
    expected = f"a UTF-8 CSV with the header {','.join(EXPECTED_HEADER)}"
    fix = f"fix the file, or set {REGISTRY_SETTING} to the registry CSV ({expected})"
    if not path.exists():
        raise RegistryInvalid(f"{where}: no such file; set {REGISTRY_SETTING} to the hospital registry ({expected})")
    if path.is_dir():
        raise RegistryInvalid(f"{where}: is a directory; set {REGISTRY_SETTING} to the registry CSV file itself")
    try:
        registry = HospitalRegistry.from_csv(path)
    except PermissionError:
        raise RegistryInvalid(f"{where}: cannot be read: permission denied; let the service's user read it") from None
    except OSError as exc:
        raise RegistryInvalid(f"{where}: cannot be read: {exc.strerror or exc}") from exc
    except RegistryError as exc:
        where_in_file = f"{exc.path}:{exc.line}: " if exc.line is not None else f"{exc.path}: "
        line = f"line {exc.line}: " if exc.line is not None else ""
        raise RegistryInvalid(f"{where}: {line}{str(exc).removeprefix(where_in_file)}; {fix}") from exc
    if len(registry) == 0:
        # Every hospital would be "not in the registry": a notice blaming each applicant's documents.
        raise RegistryInvalid(f"{where}: the file has a header but no hospitals; {fix}")
    return registry


# --- logging ----------------------------------------------------------------------------------------


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure_logging(level: int | str = logging.INFO) -> None:
    """Log records of ``level`` and above to stderr, with timestamps (long-running commands).

    Replaces an earlier stderr handler of the root logger (``logging.basicConfig``'s, or ours) so a
    record is never written twice.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        plain_stderr = type(handler) is logging.StreamHandler and handler.stream in (sys.stderr, sys.__stderr__)
        if isinstance(handler, _StderrHandler) or plain_stderr:
            root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT, LOG_DATE_FORMAT))
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def uvicorn_log_config(level: str = "info") -> dict[str, Any]:
    """uvicorn's logging configuration with timestamps, and the application's own loggers (the root
    logger) on stderr too: applied in every HTTP worker process, which ``configure_logging`` in the
    parent would not reach."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    for formatter in config["formatters"].values():
        formatter["fmt"] = "%(asctime)s " + formatter["fmt"]
        formatter["datefmt"] = LOG_DATE_FORMAT
    config["formatters"]["intake"] = {"format": LOG_FORMAT, "datefmt": LOG_DATE_FORMAT}
    config["handlers"]["intake"] = {
        "formatter": "intake", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"
    }
    config["root"] = {"handlers": ["intake"], "level": level.upper()}
    config["loggers"].update({name: {"level": "WARNING"} for name in _CHATTY_LOGGERS})
    return config
