"""One settings class for the whole application, read from ``INTAKE_*`` environment variables.

Nested groups use ``__``: ``INTAKE_DB__URL=postgresql+psycopg://localhost/test``,
``INTAKE_OCR__DET_LIMIT_SIDE_LEN=1600``. A ``.env`` file in the working directory is read too.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel
from pydantic_settings import BaseSettings, SettingsConfigDict

from ocr.options import OcrOptions

REPO_ROOT = Path(__file__).resolve().parents[1]
POLICIES_DIR = Path(__file__).resolve().parent / "policies"


class DatabaseSettings(BaseModel):
    # SQLite is the embedded default; PostgreSQL: postgresql+psycopg://user@host:5432/db
    url: str = f"sqlite:///{REPO_ROOT / 'var' / 'intake.db'}"
    echo: bool = False


class StorageSettings(BaseModel):
    root: Path = REPO_ROOT / "var" / "files"


class RedisSettings(BaseModel):
    url: str = "redis://127.0.0.1:6379/0"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="INTAKE_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    registry_path: Path = REPO_ROOT / "fixtures" / "registry" / "hospitals.csv"
    policies_dir: Path = POLICIES_DIR
    # Read the seal's curved text (costs an extra OCR pass on the seal crop, ~0.2 s a seal).
    read_seal_text: bool = True
    ocr: OcrOptions = OcrOptions()
    db: DatabaseSettings = DatabaseSettings()
    storage: StorageSettings = StorageSettings()
    redis: RedisSettings = RedisSettings()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings; tests call ``get_settings.cache_clear()`` after changing the env."""
    return Settings()
