"""A running intake service for API tests: real Redis, a fresh database (SQLite and PostgreSQL),
a temporary file store, and API keys for two apps, a reviewer and an operator."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from redis import Redis

from api.app import app as fastapi_app
from api.deps import current_settings, hash_key
from intake.db import session_factory
from intake.jobs import WorkerContext, set_context
from intake.models import Channel
from intake.prescreen import Prescreener
from intake.queue import Queues
from intake.settings import Settings
from tests.services import ensure_redis, fresh_postgres_database


@dataclass
class Service:
    settings: Settings
    client: TestClient
    keys: dict[str, str]  # channel id -> API key
    secrets: dict[str, str]  # channel id -> callback secret
    queues: Queues
    context: WorkerContext

    def headers(self, channel: str, **extra: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[channel], **extra}

    def sessions(self):  # type: ignore[no-untyped-def]
        return session_factory(self.settings.db.url)

    def work(self) -> int:
        """Run a real rq worker in burst mode until every queue is empty."""
        from intake.worker import run_worker

        return run_worker(self.settings, burst=True, context=self.context)


def _channels(settings: Settings) -> tuple[dict[str, str], dict[str, str]]:
    keys, callback_secrets = {}, {}
    with session_factory(settings.db.url).begin() as session:
        for channel_id, role in (("app-a", "app"), ("app-b", "app"), ("reviewer", "reviewer"), ("ops", "operator")):
            keys[channel_id] = key = secrets.token_urlsafe(24)
            callback_secrets[channel_id] = secret = secrets.token_urlsafe(16)
            session.add(Channel(id=channel_id, name=channel_id, role=role, api_key_sha256=hash_key(key),
                                callback_secret=secret))
    return keys, callback_secrets


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'intake.db'}"
    else:
        with fresh_postgres_database() as url:
            yield url


@pytest.fixture(scope="session")
def shared_prescreener(tmp_path_factory: pytest.TempPathFactory) -> Prescreener:
    """One set of loaded OCR models for every test; its OCR cache lives in its own database."""
    db = tmp_path_factory.mktemp("ocr-cache") / "cache.db"
    return Prescreener(Settings(db={"url": f"sqlite:///{db}"}))


@pytest.fixture
def service(db_url: str, tmp_path: Path, shared_prescreener: Prescreener) -> Iterator[Service]:
    redis_url = ensure_redis()
    Redis.from_url(redis_url).flushdb()
    settings = Settings(
        db={"url": db_url},
        storage={"root": tmp_path / "files"},
        redis={"url": redis_url},
        queue={"retry_backoff_seconds": [0, 0, 0], "processing_timeout_seconds": 60},
        allow_private_callback_urls=True,  # the tests' callback receivers listen on 127.0.0.1
    )
    keys, callback_secrets = _channels(settings)
    fastapi_app.dependency_overrides[current_settings] = lambda: settings
    context = WorkerContext(settings)
    context.prescreener = shared_prescreener  # type: ignore[misc]  # models load once per session
    set_context(context)
    try:
        with TestClient(fastapi_app) as client:
            yield Service(settings, client, keys, callback_secrets, Queues(settings), context)
    finally:
        fastapi_app.dependency_overrides.clear()
        set_context(None)
