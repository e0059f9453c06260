"""Region policies: which materials an application needs and what each document is checked against.

Policies are data files (``intake/policies/*.yaml``). ``default.yaml`` holds every key; a region file
names only what it changes (mappings are merged key by key).
"""

from __future__ import annotations

import datetime as dt
import math
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError, field_validator

from classifiers.types import DocType, DocumentContext
from intake.errors import PolicyError

DEFAULT_REGION = "default"


class MaterialRule(BaseModel):
    """A required material: satisfied by any readable document of one of ``doc_types`` (and, when
    ``keywords`` are given, whose text contains one of them, e.g. 病理 for a pathology report)."""

    doc_types: list[DocType]
    label: str
    keywords: list[str] = []
    exclude_identity_kinds: list[str] = []


class Policy(BaseModel):
    region: str
    name: str
    review_sla_working_days: float
    required_materials: dict[str, MaterialRule]
    disease_extras: dict[str, dict[str, MaterialRule]] = {}
    seal_required: list[DocType]
    min_grade: dict[DocType, str] = {}
    recency_limit_days: dict[DocType, int | None] = {}
    # The confidence a possible problem needs before the applicant is told of it, by problem kind
    # ("stale", "identity_mismatch" …) with "default" for the others; below it, a reviewer flag.
    problem_confidence: dict[str, float] = {"default": 0.8}

    @field_validator("problem_confidence")
    @classmethod
    def _confidences_are_fractions(cls, value: dict[str, float]) -> dict[str, float]:
        if "default" not in value:
            raise ValueError("problem_confidence needs a 'default' entry")
        if bad := {kind: c for kind, c in value.items() if not 0.0 <= c <= 1.0}:
            raise ValueError(f"problem_confidence values must lie between 0 and 1: {bad}")
        return value

    def tells_applicant(self, code: str, confidence: float) -> bool:
        """Whether a possible problem is sure enough to send to the applicant (else it is a flag)."""
        kind = code.partition(":")[0]
        return confidence >= self.problem_confidence.get(kind, self.problem_confidence["default"])

    def materials_for(self, disease: str | None) -> dict[str, MaterialRule]:
        """Required materials for an application claiming ``disease`` (defaults plus its extras)."""
        extras = self.disease_extras.get(disease or "", {})
        return {**self.required_materials, **extras}

    def context_for(
        self,
        doc_type: DocType,
        *,
        application_date: dt.date,
        applicant_name: str | None,
        id_number: str | None,
        disease: str | None,
    ) -> DocumentContext:
        return DocumentContext(
            application_date=application_date,
            applicant_name=applicant_name,
            id_number=id_number,
            disease=disease,
            seal_required=doc_type in self.seal_required,
            min_grade=self.min_grade.get(doc_type),
            recency_limit_days=self.recency_limit_days.get(doc_type),
        )

    def review_due(self, submitted: dt.date) -> dt.date:
        """Last day of the review SLA, counted in Chinese working days (法定节假日 and 调休 included)."""
        days = self.review_sla_working_days
        # Half a working day still ends on the first working day on or after submission.
        remaining = max(math.ceil(days), 0)
        day = submitted
        if remaining == 0 or days < 1:
            while not _is_workday(day):
                day += dt.timedelta(days=1)
            return day
        while remaining:
            day += dt.timedelta(days=1)
            if _is_workday(day):
                remaining -= 1
        return day


def _is_workday(day: dt.date) -> bool:
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the calendar does not cover yet: fall back to Mon–Fri
        return day.weekday() < 5


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"policy file {path} must hold a mapping, not {type(data).__name__}")
    return data


class PolicyBook:
    """Every region's policy, by region name (绥化市, 神农架林区, 六盘水市, default)."""

    def __init__(self, policies: dict[str, Policy]) -> None:
        if DEFAULT_REGION not in policies:
            raise PolicyError("the policies directory has no default.yaml")
        self.policies = policies

    @classmethod
    def load(cls, directory: Path) -> PolicyBook:
        default_path = directory / "default.yaml"
        if not default_path.is_file():
            raise PolicyError(f"no default.yaml in the policies directory {directory}")
        default = _read_yaml(default_path)
        policies: dict[str, Policy] = {}
        for path in sorted(directory.glob("*.yaml")):
            raw = default if path == default_path else _merge(default, _read_yaml(path))
            try:
                policy = Policy.model_validate(raw)
            except ValidationError as exc:
                raise PolicyError(f"policy file {path} is invalid: {exc}") from exc
            if policy.region in policies:
                raise PolicyError(f"two policy files name the region {policy.region!r}")
            policies[policy.region] = policy
        return cls(policies)

    def for_region(self, region: str | None) -> Policy:
        """The region's policy, or the default one for a region without its own file."""
        return self.policies.get(region or DEFAULT_REGION, self.policies[DEFAULT_REGION])

    @property
    def regions(self) -> list[str]:
        return sorted(self.policies)


@cache
def load_policies(directory: Path) -> PolicyBook:
    return PolicyBook.load(directory)
