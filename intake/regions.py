"""What a region's policy says about 病种 and qualifications: which 病种 it takes online (its disease
list, under its own names), which it refuses at creation, and how long an approved qualification
lasts before 复审.

The lists and periods are data (``disease_list`` and ``qualification_validity`` in
``intake/policies/*.yaml``); this module reads them. The source materials (docs/seeds) name only
examples of each region's list, so every entry says whether it comes from the source text
(``basis: seed``) or is this project's assumption (``basis: assumption``), and a list says whether it
is ``complete``:

- a complete list refuses every 病种 it does not name;
- a partial list (every list the seeds give) takes any 病种 of the catalogue: refusing one only
  because the seed's examples leave it out would turn away applicants the region does cover;
- a name that is no 病种 of the catalogue at all is refused everywhere.

A refusal is ``病种不在线上办理范围`` (one of the reasons for failure the source materials name) with
the 病种 the region does take, so the applicant can choose again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from classifiers.diagnosis import Disease, DiseaseCatalogue

if TYPE_CHECKING:
    from intake.policy import Policy

Basis = Literal["seed", "assumption"]


class ListedDisease(BaseModel):
    """One 病种 of a region's list: the catalogue's name, and the names the region writes it under."""

    disease: str  # the name in classifiers/data/diseases.yaml
    names: list[str] = []  # the region's own wordings (高血压（有心、脑、肾、眼并发症）…)
    basis: Basis  # seed: the source text names it; assumption: this project adds it


class DiseaseClass(BaseModel):
    """A class of a region's list (门诊慢性病, 门诊特殊疾病, 本地扩展病种 …)."""

    stated_count: int | None = None  # how many 病种 the source says the class holds
    diseases: list[ListedDisease] = []


class DiseaseList(BaseModel):
    """The 病种 a region takes online. ``complete: false`` when the source names only examples."""

    complete: bool = False
    source: str | None = None  # the source material the list is read from
    classes: dict[str, DiseaseClass] = {}

    def entries(self) -> list[tuple[str, ListedDisease]]:
        """Every listed 病种 with its class, in the order of the file."""
        return [(name, entry) for name, cls in self.classes.items() for entry in cls.diseases]


class ValidityPeriod(BaseModel):
    years: int = Field(ge=1)
    basis: Basis


class QualificationValidity(BaseModel):
    """How long an approved qualification lasts before 复审: per 病种, else ``default_years``
    (None: 长期有效, no re-review)."""

    default_years: int | None = Field(default=None, ge=1)
    diseases: dict[str, ValidityPeriod] = {}


@cache
def default_catalogue() -> DiseaseCatalogue:
    return DiseaseCatalogue.load()


@dataclass(frozen=True)
class Coverage:
    """How a region takes a claimed 病种."""

    claimed: str
    disease: Disease | None  # the catalogue's 病种 the claim names, None if it names none
    disease_class: str | None  # the region's class, when its list names the 病种
    covered: bool  # the application can be made online in this region

    @property
    def listed(self) -> bool:
        return self.disease_class is not None


def resolve_disease(policy: Policy, claimed: str, catalogue: DiseaseCatalogue | None = None) -> Disease | None:
    """The catalogue 病种 a claim names: by the region's own names first (重性精神病（含精神分裂症、
    双相情感障碍等）), then by the catalogue's names and aliases (恶性肿瘤门诊治疗, 尿毒症透析 …).
    Both are compared as ``DiseaseCatalogue.find`` compares them (full-width, punctuation aside)."""
    catalogue = catalogue or default_catalogue()
    own = _region_names(policy.disease_list)
    found = own.find(claimed)
    if found is not None:
        return catalogue.find(found.name)
    return catalogue.find(claimed)


def disease_coverage(policy: Policy, claimed: str, catalogue: DiseaseCatalogue | None = None) -> Coverage:
    """Whether ``policy``'s region takes an application for ``claimed`` (see the module docstring)."""
    disease = resolve_disease(policy, claimed, catalogue)
    if disease is None:
        return Coverage(claimed, None, None, covered=False)
    disease_class = next((cls for cls, entry in policy.disease_list.entries() if entry.disease == disease.name), None)
    covered = disease_class is not None or not policy.disease_list.complete
    return Coverage(claimed, disease, disease_class, covered=covered)


def covered_diseases(policy: Policy, catalogue: DiseaseCatalogue | None = None) -> list[str]:
    """The 病种 an application in this region may name: the listed ones first (under the catalogue's
    names), then, for a partial list, the rest of the catalogue."""
    catalogue = catalogue or default_catalogue()
    listed = list(dict.fromkeys(entry.disease for _, entry in policy.disease_list.entries()))
    if policy.disease_list.complete:
        return listed
    return listed + [d.name for d in catalogue.diseases if d.name not in listed]


def not_covered_message(policy: Policy, coverage: Coverage, catalogue: DiseaseCatalogue | None = None) -> str:
    """Why the application cannot be made, and which 病种 can, in plain Chinese."""
    where = "" if policy.region == "default" else policy.name
    why = ("不是门诊慢特病病种目录中的病种" if coverage.disease is None
           else f"不在{where or '本地区'}的门诊慢特病病种清单中")
    names = covered_diseases(policy, catalogue)
    return (
        f"病种不在线上办理范围：“{coverage.claimed}”{why}。{where}可在线申请的病种有：{'、'.join(names)}"
        f"（共{len(names)}种）。请从中选择所患病种后重新填写，如有疑问请咨询参保地医保经办机构。"
    )


def disease_problem(policy: Policy, claimed: str, catalogue: DiseaseCatalogue | None = None) -> str | None:
    """The refusal of an application for ``claimed`` in ``policy``'s region, or None if it is taken."""
    coverage = disease_coverage(policy, claimed, catalogue)
    return None if coverage.covered else not_covered_message(policy, coverage, catalogue)


def list_problems(disease_list: DiseaseList, catalogue: DiseaseCatalogue | None = None) -> list[str]:
    """What is wrong with a region's list against the catalogue: a 病种 the catalogue lacks, or a
    region's name that the catalogue reads as another 病种 (for a policy check at start-up)."""
    catalogue = catalogue or default_catalogue()
    problems = []
    for cls, entry in disease_list.entries():
        found = catalogue.find(entry.disease)
        if found is None or found.name != entry.disease:
            problems.append(f"{cls}: {entry.disease!r} is not a 病种 name of the catalogue")
            continue
        for name in entry.names:
            other = catalogue.find(name)
            if other is not None and other.name != entry.disease:
                problems.append(f"{cls}: {name!r} is listed under {entry.disease!r} but the catalogue reads it "
                                f"as {other.name!r}")
    return problems


def qualification_valid_until(policy: Policy, disease: str, approved_on: dt.date) -> dt.date | None:
    """The last day an approved qualification for ``disease`` holds in ``policy``'s region, or None
    when it does not expire (长期有效). A period of N years from approval ends the day before the Nth
    anniversary (approved 2026-03-05 for 2 years: valid through 2028-03-04); then 复审 is due.
    ``disease`` may be any name the region or the catalogue knows it by."""
    validity = policy.qualification_validity
    found = resolve_disease(policy, disease)
    name = found.name if found is not None else disease
    period = validity.diseases.get(name)
    years = period.years if period is not None else validity.default_years
    if years is None:
        return None
    return _add_years(approved_on, years) - dt.timedelta(days=1)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a year without one: the anniversary is 1 March
        return day.replace(year=day.year + years, month=3, day=1)


@cache
def _region_names_cached(key: tuple[tuple[str, tuple[str, ...]], ...]) -> DiseaseCatalogue:
    # The region's own names as a catalogue of aliases: looked up with the catalogue's normaliser.
    return DiseaseCatalogue([Disease(name=name, aliases=names, icd10=(), terms=()) for name, names in key])


def _region_names(disease_list: DiseaseList) -> DiseaseCatalogue:
    return _region_names_cached(tuple((e.disease, tuple(e.names)) for _, e in disease_list.entries()))
