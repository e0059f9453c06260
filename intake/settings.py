"""One settings class for the whole application, read from ``INTAKE_*`` environment variables.

Nested groups use ``__``: ``INTAKE_DB__URL=postgresql+psycopg://localhost/test``,
``INTAKE_OCR__DET_LIMIT_SIDE_LEN=1600``. A ``.env`` file in the working directory is read too.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel
from pydantic_settings import BaseSettings, SettingsConfigDict

from ocr.options import OcrOptions

REPO_ROOT = Path(__file__).resolve().parents[1]
POLICIES_DIR = Path(__file__).resolve().parent / "policies"
WORKDAYS_DIR = Path(__file__).resolve().parent / "workdays"


class DatabaseSettings(BaseModel):
    # SQLite is the embedded default; PostgreSQL: postgresql+psycopg://user@host:5432/db
    url: str = f"sqlite:///{REPO_ROOT / 'var' / 'intake.db'}"
    echo: bool = False


class StorageSettings(BaseModel):
    root: Path = REPO_ROOT / "var" / "files"


class RedisSettings(BaseModel):
    url: str = "redis://127.0.0.1:6379/0"


class QueueSettings(BaseModel):
    ocr_queue: str = "ocr"  # reading documents: the long jobs
    assess_queue: str = "assess"  # assessing finished applications: never waits behind OCR
    callback_queue: str = "callbacks"
    job_timeout_seconds: int = 600  # one document, all pages
    max_attempts: int = 3  # a document that fails this often on faults of ours is a dead letter
    retry_backoff_seconds: list[int] = [5, 30, 120]  # wait before attempt 2, 3, …
    # A document "processing" for longer than this is taken to have lost its worker.
    processing_timeout_seconds: int = 900
    worker_max_jobs: int = 500  # a worker process is recycled after this many jobs (flat memory)
    callback_max_attempts: int = 8
    callback_timeout_seconds: float = 10.0


class LimitSettings(BaseModel):
    max_file_bytes: int = 20 * 1024 * 1024
    max_files_per_application: int = 40
    max_files_per_request: int = 20


class SessionSettings(BaseModel):
    """Reviewers' sign-in sessions (api.pages_auth): a signed cookie, never a server-side store."""

    # Signs the session and CSRF cookies. Give every API process of a deployment the same value
    # (INTAKE_SESSION__SECRET); unset, one is made once and kept in ``secret_file``.
    secret: str | None = None
    secret_file: Path = REPO_ROOT / "var" / "session-secret"
    max_age_seconds: int = 8 * 3600  # a session ends this long after sign-in, whatever happens
    idle_seconds: int = 30 * 60  # … or after this long without a request
    https_only: bool = False  # set true behind HTTPS: cookies then carry Secure


class PageImageSettings(BaseModel):
    """The reviewers' page images (intake.workspace.page_images): drawn once, kept on disk."""

    # Unset: <storage.root>/page-images.
    cache_dir: Path | None = None
    # The cache never holds much more: the least recently used pages are removed (INTAKE_PAGE_IMAGES__CACHE_MAX_BYTES).
    cache_max_bytes: int = 2 * 1024**3


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="INTAKE_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    registry_path: Path = REPO_ROOT / "fixtures" / "registry" / "hospitals.csv"
    policies_dir: Path = POLICIES_DIR
    # The State Council's holiday and 调休 schedule, one <year>.yaml per year (review deadlines); an
    # operator drops next year's file in here (see `intake calendar check`).
    workdays_dir: Path = WORKDAYS_DIR
    # An application for a region without a policy file: "refuse" it at creation (422 listing the
    # regions that have one), or assess it under the "default" policy.
    unknown_region: Literal["refuse", "default"] = "refuse"
    # Callbacks to loopback, link-local and private addresses are refused (SSRF) unless allowed here,
    # e.g. for an app that runs inside the same private network.
    allow_private_callback_urls: bool = False
    # Read the seal's curved text (costs an extra OCR pass on the seal crop, ~0.2 s a seal).
    read_seal_text: bool = True
    ocr: OcrOptions = OcrOptions()
    db: DatabaseSettings = DatabaseSettings()
    storage: StorageSettings = StorageSettings()
    redis: RedisSettings = RedisSettings()
    queue: QueueSettings = QueueSettings()
    limits: LimitSettings = LimitSettings()
    session: SessionSettings = SessionSettings()
    page_images: PageImageSettings = PageImageSettings()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings; tests call ``get_settings.cache_clear()`` after changing the env."""
    return Settings()
