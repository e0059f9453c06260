"""Region policies: which materials an application needs and what each document is checked against.

Policies are data files (``intake/policies/*.yaml``). ``default.yaml`` holds every key; a region file
names only what it changes (mappings are merged key by key).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ValidationError, field_validator, model_validator

from classifiers.types import DocType, DocumentContext, OtherKind
from intake.errors import PolicyError
from intake.regions import DiseaseList, QualificationValidity

if TYPE_CHECKING:
    from classifiers.diagnosis import DiseaseCatalogue
from intake.workdays import Deadline, WorkCalendar, default_calendar

DEFAULT_REGION = "default"


class MaterialRule(BaseModel):
    """A required material: satisfied by any readable document of one of ``doc_types`` (and, when
    ``keywords`` are given, whose text contains one of them, e.g. 病理 for a pathology report).

    ``kinds``: with ``other`` among ``doc_types``, only an `other` document of one of these kinds
    (classifiers.types.OtherKind: relationship_proof, treatment_record, medication_record) counts:
    ``doc_types: [other]`` + ``kinds: [treatment_record]`` is a dialysis or chemotherapy record. The
    report's document types stay the contract's six; the kind is what the rule asks for.

    ``holder``: whose document it must be. An identity document checked against the agent (代办人)
    proves the agent's identity only, never the applicant's, and the other way round.
    ``when_claimed_as``: a disease extra that applies only when the 病种 is claimed in one of these
    written forms (brackets and spaces aside): dialysis records for 慢性肾功能衰竭透析 / 尿毒症透析,
    not for 慢性肾功能衰竭 without dialysis, which the catalogue holds under the same name."""

    doc_types: list[DocType]
    label: str
    kinds: list[OtherKind] = []
    keywords: list[str] = []
    exclude_identity_kinds: list[str] = []
    holder: Literal["applicant", "agent"] = "applicant"
    when_claimed_as: list[str] = []

    @model_validator(mode="after")
    def _kinds_are_of_other(self) -> MaterialRule:
        if self.kinds and DocType.OTHER not in self.doc_types:
            raise ValueError(f"kinds {[str(k) for k in self.kinds]} need `other` among doc_types")
        return self

    def of_its_type(self, doc_type: DocType | None, kind: str | None) -> bool:
        """Whether a document of this type (and kind) is of the material's type, readable or not."""
        if doc_type not in self.doc_types:
            return False
        return doc_type != DocType.OTHER or not self.kinds or kind in self.kinds


class Policy(BaseModel):
    region: str
    name: str
    review_sla_working_days: float
    # 复杂病例: the deadline of a case a reviewer marks complex (绥化: 5); None keeps review_sla_working_days.
    review_sla_complex_working_days: float | None = None
    # The 病种 the region takes online, under its own names, and whether the list is complete (intake.regions).
    disease_list: DiseaseList = DiseaseList()
    # 复审: how long an approved qualification lasts, per 病种 (intake.regions.qualification_valid_until).
    qualification_validity: QualificationValidity = QualificationValidity()
    required_materials: dict[str, MaterialRule]
    disease_extras: dict[str, dict[str, MaterialRule]] = {}
    # 代办: what an application that names an agent needs besides its other materials.
    proxy_materials: dict[str, MaterialRule] = {}
    seal_required: list[DocType]
    # Document types that must carry a doctor's signature (医生签字 or 签章) in their signature area,
    # and whether a printed doctor's name there (an electronic record's 电子签名) counts as one.
    signature_required: list[DocType] = []
    signature_accepts_printed_name: bool = False
    min_grade: dict[DocType, str] = {}
    # Days a document may be old, by document type or by kind of `other` (treatment_record …): a
    # kind's limit wins over its type's. null: no limit.
    recency_limit_days: dict[DocType | OtherKind, int | None] = {}
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

    def recency_limit(self, doc_type: DocType | None, kind: str | None = None) -> int | None:
        """The recency limit of a document: its kind's, when the policy names the kind, else its type's."""
        if doc_type == DocType.OTHER and kind in self.recency_limit_days:
            return self.recency_limit_days[OtherKind(kind)]
        return self.recency_limit_days.get(doc_type) if doc_type is not None else None

    def kinds_named(self, disease: str | None, *, proxy: bool = False) -> set[str]:
        """The kinds of `other` documents the application's materials name: only those are checked."""
        return {str(k) for rule in self.materials_for(disease, proxy=proxy).values() for k in rule.kinds}

    def tells_applicant(self, code: str, confidence: float) -> bool:
        """Whether a possible problem is sure enough to send to the applicant (else it is a flag)."""
        kind = code.partition(":")[0]
        return confidence >= self.problem_confidence.get(kind, self.problem_confidence["default"])

    def materials_for(self, disease: str | None, *, proxy: bool = False) -> dict[str, MaterialRule]:
        """Required materials for an application claiming ``disease`` (defaults plus its extras, the
        disease found by its catalogue name or any alias), and ``proxy_materials`` when it names an
        agent (代办)."""
        extras = self.disease_extras.get(disease or "") or self.disease_extras.get(canonical_disease(disease), {})
        claimed = _claim_key(disease or "")
        extras = {name: rule for name, rule in extras.items()
                  if not rule.when_claimed_as or claimed in {_claim_key(c) for c in rule.when_claimed_as}}
        return {**self.required_materials, **extras, **(self.proxy_materials if proxy else {})}

    def context_for(
        self,
        doc_type: DocType,
        *,
        application_date: dt.date,
        applicant_name: str | None,
        id_number: str | None,
        disease: str | None,
        agent_name: str | None = None,
        agent_id_number: str | None = None,
        kind: str | None = None,
    ) -> DocumentContext:
        return DocumentContext(
            application_date=application_date,
            applicant_name=applicant_name,
            id_number=id_number,
            disease=disease,
            agent_name=agent_name,
            agent_id_number=agent_id_number,
            seal_required=doc_type in self.seal_required,
            min_grade=self.min_grade.get(doc_type),
            recency_limit_days=self.recency_limit(doc_type, kind),
            signature_required=doc_type in self.signature_required,
            printed_signature_ok=self.signature_accepts_printed_name,
        )

    def sla_working_days(self, complex_case: bool = False) -> float:
        """The review SLA in working days: the longer one for a case a reviewer marked complex."""
        if complex_case and self.review_sla_complex_working_days is not None:
            return self.review_sla_complex_working_days
        return self.review_sla_working_days

    def review_deadline(self, submitted: dt.date, calendar: WorkCalendar | None = None, *,
                        complex_case: bool = False) -> Deadline:
        """Last day of the review SLA, counted in Chinese working days (法定节假日 and 调休 included),
        and whether it is an estimate (a day counted lies in a year without a schedule file).
        ``calendar``: default, the one of ``INTAKE_WORKDAYS_DIR``. ``submitted``: the submission of
        the round being reviewed: a 补正 round restarts the count (补正后重新计算审核时限)."""
        calendar = calendar or default_calendar()
        return calendar.add_working_days(submitted, self.sla_working_days(complex_case))

    def review_due(self, submitted: dt.date, calendar: WorkCalendar | None = None, *,
                   complex_case: bool = False) -> dt.date:
        """The date of ``review_deadline`` (callers that do not show whether it is an estimate)."""
        return self.review_deadline(submitted, calendar, complex_case=complex_case).date


@cache
def _catalogue() -> DiseaseCatalogue:
    from classifiers.diagnosis import DiseaseCatalogue

    return DiseaseCatalogue.load()


def canonical_disease(disease: str | None) -> str:
    """The catalogue's name of a 病种 as an application writes it (恶性肿瘤门诊治疗 -> 恶性肿瘤), or ""."""
    found = _catalogue().find(disease) if disease else None
    return found.name if found else ""


def _claim_key(name: str) -> str:
    return re.sub(r"[\s()（）\[\]【】]", "", unicodedata.normalize("NFKC", name))


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
