"""What an assessment was made with: the versions recorded on every case, so that a re-scan knows
which applications a change touches and how deep it must go (``intake.rescan``).

Five parts, each a short content hash or a constant:

- ``policy``: the region's *effective* policy (default.yaml merged with the region's file, as
  validated), so a change to default.yaml shows on every region that inherits it and a comment or
  reordering changes nothing;
- ``registry``: the hospital registry file's bytes;
- ``catalogue``: the disease catalogue file's bytes (``classifiers/data/diseases.yaml``);
- ``classifier``: ``CLASSIFIER_VERSION`` below;
- ``ocr``: the OCR fingerprint (engine, models and options, seal finding version, the version of
  what is read again before caching) that keys the OCR cache.

Bump rule for ``CLASSIFIER_VERSION``: bump it in the same commit as any change under
``classifiers/`` (or its data files other than the disease catalogue) that can change, for the
same OCR result, a document's type, its fields or the identity and quality checks. A change that
only touches a policy, the registry or the catalogue needs no bump: their hashes already change.
A change to the seal detector bumps ``SEAL_FINDING_VERSION`` (``intake.prescreen``), and a change
to what is read again before a result is cached (under the seal, where a date should be) bumps
``REREAD_VERSION``; both are part of the OCR fingerprint.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classifiers.diagnosis import DISEASES_PATH, DiseaseCatalogue
from intake.policy import Policy

if TYPE_CHECKING:
    from intake.prescreen import Prescreener

CLASSIFIER_VERSION = "2026.12.01-11"

PARTS = ("policy", "registry", "catalogue", "classifier", "ocr")
# What each part's change requires of a re-scan, shallowest first (see intake.rescan).
ASSESSMENT_PARTS = ("policy", "registry", "catalogue")
CLASSIFICATION_PARTS = ("classifier",)
OCR_PARTS = ("ocr",)


@dataclass(frozen=True)
class Versions:
    policy: str
    registry: str
    catalogue: str
    classifier: str
    ocr: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> Versions | None:
        """The versions stored on a case; None for a case made before versions were recorded."""
        if not data:
            return None
        return cls(**{key: str(data.get(key) or "") for key in PARTS})

    def changed(self, other: Versions | None) -> list[str]:
        """The parts that differ from ``other`` (all of them when ``other`` is unknown)."""
        mine = self.as_dict()
        if other is None:
            return list(mine)
        theirs = other.as_dict()
        return [key for key, value in mine.items() if theirs[key] != value]


def _short(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def policy_hash(policy: Policy) -> str:
    """Content hash of a region's effective policy (key order and comments do not count)."""
    return _short(policy.model_dump_json().encode())


@cache
def _file_hash(path: Path, mtime_ns: int, size: int) -> str:
    return _short(path.read_bytes())


def file_hash(path: Path) -> str:
    """Content hash of a data file, read again only when its mtime or size changes."""
    path = Path(path).resolve()
    info = path.stat()
    return _file_hash(path, info.st_mtime_ns, info.st_size)


def catalogue_path(prescreener: Prescreener) -> Path:
    """The disease catalogue file the prescreener's catalogue was loaded from."""
    return Path(getattr(prescreener, "catalogue_path", None) or DISEASES_PATH)


def use_catalogue(prescreener: Prescreener, path: Path) -> None:
    """Point a prescreener at another disease catalogue file (a deployment's own, or a test's copy)."""
    prescreener.catalogue_path = Path(path)  # type: ignore[attr-defined]
    prescreener.catalogue = DiseaseCatalogue.load(path)


def registry_path(prescreener: Prescreener) -> Path:
    return Path(prescreener.registry_path or prescreener.settings.registry_path)


def reference_versions(policy: Policy, *, registry: Path, catalogue: Path) -> dict[str, str]:
    """The parts an assessment of stored document reports depends on by itself: the policy, the
    registry and the catalogue files it used (a reviewer's re-assessment records these and keeps
    the classifier and OCR parts of the reports it re-assessed)."""
    return {"policy": policy_hash(policy), "registry": file_hash(registry), "catalogue": file_hash(catalogue)}


def current_versions(prescreener: Prescreener, region: str) -> Versions:
    """The versions an assessment of an application of ``region`` made now would record."""
    return Versions(
        **reference_versions(prescreener.policies.for_region(region), registry=registry_path(prescreener),
                             catalogue=catalogue_path(prescreener)),
        classifier=CLASSIFIER_VERSION,
        ocr=prescreener.fingerprint,
    )
