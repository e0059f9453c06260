"""The Alembic migrations build exactly the schema the models declare (SQLite and PostgreSQL), and
go down and up again: a column or index added to a model without its migration fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from intake.db import MIGRATIONS, upgrade
from intake.models import Base
from tests.services import fresh_postgres_database


def _drift(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), Base.metadata)


def _config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def test_sqlite_schema_matches_the_models_and_migrates_down_and_up(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'schema.db'}"
    engine = sa.create_engine(url)
    upgrade(engine)
    assert _drift(engine) == []
    command.downgrade(_config(url), "0002")
    upgrade(engine)
    assert _drift(engine) == []


@pytest.mark.postgres
def test_postgres_schema_matches_the_models() -> None:
    with fresh_postgres_database() as url:
        engine = sa.create_engine(url)
        try:
            upgrade(engine)
            assert _drift(engine) == []
        finally:
            engine.dispose()
