"""An application as the applicant submitted it: their details and the files they uploaded."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, field_validator

from intake.errors import ApplicationInvalid

APPLICATION_FILE = "application.json"
# Not uploads: the application itself and the generator's answer key beside the sample files.
NOT_DOCUMENTS = frozenset({APPLICATION_FILE, "truth.json"})


class Application(BaseModel):
    """The keys of application.json."""

    case_id: str | None = None
    applicant_name: str = Field(min_length=1)
    id_number: str = Field(min_length=1)
    disease: str = Field(min_length=1)  # the claimed 病种
    region: str = "default"
    application_date: dt.date

    @field_validator("applicant_name", "disease", "region", "id_number")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("id_number")
    @classmethod
    def _upper_x(cls, value: str) -> str:
        return value.upper()


def load_application(directory: Path) -> tuple[Application, list[Path]]:
    """Read DIR/application.json and list the document files beside it (sorted by name)."""
    if not directory.is_dir():
        raise ApplicationInvalid("is not a directory", path=str(directory))
    path = directory / APPLICATION_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ApplicationInvalid(
            "application.json is missing: it must hold applicant_name, id_number, disease, region "
            "and application_date",
            path=str(directory),
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApplicationInvalid(f"cannot read application.json: {exc}", path=str(path)) from exc
    try:
        application = Application.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors()
        )
        raise ApplicationInvalid(f"application.json is invalid: {problems}", path=str(path)) from exc
    files = sorted(
        p for p in directory.iterdir() if p.is_file() and p.name not in NOT_DOCUMENTS and not p.name.startswith(".")
    )
    return application, files
