"""API keys on the running service: the Bearer rule, and keys revoked or rotated through
``intake.channels`` and the ``intake channel`` commands.

Runs against real Redis and both databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import ast
import base64
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

import api.deps
from intake.channels import revoke_channel, rotate_channel
from intake.cli import app as cli_app
from intake.models import AuditEvent, Channel
from intake.settings import get_settings
from tests.api.conftest import Service

pytestmark = pytest.mark.redis

CASES = "/v1/review/cases"  # a reviewers' GET: cheap, touches nothing
Cli = Callable[..., Result]


@pytest.fixture
def cli(service: Service, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Runs `intake ...` in this process against the service's database."""
    monkeypatch.setenv("INTAKE_DB__URL", service.settings.db.url)
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        get_settings.cache_clear()
        try:
            return runner.invoke(cli_app, list(args))
        finally:
            get_settings.cache_clear()

    return invoke


def past_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Move the API's clock past its caller cache's TTL: what every API process sees soon after."""
    later = time.monotonic() + api.deps.CALLER_TTL + 0.1
    monkeypatch.setattr(api.deps, "_clock", lambda: later)


def get_cases(service: Service, **headers: str) -> tuple[int, str]:
    response = service.client.get(CASES, headers=headers)
    return response.status_code, response.text


def test_a_bearer_token_is_accepted(service: Service) -> None:
    status, _ = get_cases(service, Authorization=f"Bearer {service.keys['reviewer']}")
    assert status == 200
    status, _ = get_cases(service, Authorization=f"bearer {service.keys['reviewer']}")  # schemes ignore case
    assert status == 200


@pytest.mark.parametrize(
    "authorization",
    ["Basic {basic}", "{key}", "Token {key}", "Bearer"],
    ids=["basic", "bare-key", "other-scheme", "bearer-without-token"],
)
def test_an_authorization_header_other_than_bearer_is_refused(service: Service, authorization: str) -> None:
    """GIVEN a valid reviewer key WHEN it is sent in Authorization without the Bearer scheme
    THEN 401, and the message says how to send it."""
    key = service.keys["reviewer"]
    basic = base64.b64encode(f"reviewer:{key}".encode()).decode()
    response = service.client.get(CASES, headers={"Authorization": authorization.format(key=key, basic=basic)})
    assert response.status_code == 401
    assert "Authorization: Bearer <API key>" in response.json()["detail"]
    assert "X-API-Key" in response.json()["detail"]
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_non_bearer_authorization_header_is_refused_even_beside_a_valid_x_api_key(service: Service) -> None:
    key = service.keys["reviewer"]
    status, text = get_cases(service, **{"X-API-Key": key, "Authorization": f"Basic {key}"})
    assert status == 401
    assert "Bearer" in text


def test_two_different_keys_in_one_request_are_refused(service: Service) -> None:
    headers = {"X-API-Key": service.keys["reviewer"], "Authorization": f"Bearer {service.keys['ops']}"}
    status, text = get_cases(service, **headers)
    assert status == 401
    assert "two different API keys" in text
    same = {"X-API-Key": service.keys["reviewer"], "Authorization": f"Bearer {service.keys['reviewer']}"}
    assert get_cases(service, **same)[0] == 200


def test_a_key_revoked_through_intake_channels_is_refused(service: Service) -> None:
    """GIVEN app-b's key, not used yet by this process WHEN its channel is revoked THEN the next request is 401."""
    with service.sessions().begin() as session:
        revoke_channel(session, "app-b", actor="test")
    response = service.client.post("/v1/applications", json={}, headers=service.headers("app-b"))
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
    assert service.client.get(CASES, headers=service.headers("reviewer")).status_code == 200  # others unaffected
    with service.sessions()() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "channel.revoked")).one()
        assert (event.actor, event.detail) == ("test", {"channel": "app-b"})


def test_a_key_revoked_with_the_cli_stops_working_within_the_cache_ttl(
    service: Service, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN the reviewer's key in use (so cached by the API) WHEN `intake channel revoke reviewer` runs
    THEN the key is refused once the cache's few seconds have passed."""
    assert api.deps.CALLER_TTL <= 5, "a revoked key must not keep working for long"
    assert get_cases(service, **{"X-API-Key": service.keys["reviewer"]})[0] == 200

    result = cli("channel", "revoke", "reviewer")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["channel"] == "reviewer"

    past_the_cache(monkeypatch)
    status, text = get_cases(service, **{"X-API-Key": service.keys["reviewer"]})
    assert status == 401
    assert "revoked" in text
    assert get_cases(service, Authorization=f"Bearer {service.keys['reviewer']}")[0] == 401


def test_rotating_with_the_cli_gives_a_new_key_and_the_old_one_is_refused(
    service: Service, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_key = service.keys["reviewer"]
    assert get_cases(service, **{"X-API-Key": old_key})[0] == 200  # cached by the API

    result = cli("channel", "rotate", "reviewer", "--callback-secret")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["channel"] == "reviewer"
    assert shown["api_key"].startswith("mtb_") and shown["api_key"] != old_key
    assert shown["callback_secret"] and shown["callback_secret"] != service.secrets["reviewer"]

    assert get_cases(service, Authorization=f"Bearer {shown['api_key']}")[0] == 200  # at once
    past_the_cache(monkeypatch)
    status, text = get_cases(service, **{"X-API-Key": old_key})
    assert status == 401
    assert "unknown API key" in text
    assert get_cases(service, **{"X-API-Key": shown["api_key"]})[0] == 200
    with service.sessions()() as session:
        assert session.get(Channel, "reviewer").callback_secret == shown["callback_secret"]  # type: ignore[union-attr]


def test_rotating_through_intake_channels_keeps_the_callback_secret_unless_asked(service: Service) -> None:
    with service.sessions().begin() as session:
        issued = rotate_channel(session, "app-b", new_callback_secret=False, actor="test")
    assert issued.callback_secret is None and "callback_secret" not in issued.shown()
    old = service.client.post("/v1/applications", json={}, headers=service.headers("app-b"))
    assert old.status_code == 401
    new = service.client.post("/v1/applications", json={}, headers={"X-API-Key": issued.api_key})
    assert new.status_code == 422  # authenticated as an app; the empty body is what is wrong
    with service.sessions()() as session:
        assert session.get(Channel, "app-b").callback_secret == service.secrets["app-b"]  # type: ignore[union-attr]
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "channel.rotated")).one()
        assert event.detail == {"channel": "app-b", "callback_secret": False}


def test_channel_list_json_shows_every_channel_and_whether_it_is_revoked(service: Service, cli: Cli) -> None:
    assert cli("channel", "revoke", "ops").exit_code == 0

    result = cli("channel", "list", "--json")
    assert result.exit_code == 0, result.output
    channels = {c["id"]: c for c in json.loads(result.stdout)}
    assert set(channels) == {"app-a", "app-b", "reviewer", "ops"}
    assert channels["ops"]["revoked"] is True and channels["ops"]["revoked_at"]
    assert channels["app-a"]["revoked"] is False and channels["app-a"]["revoked_at"] is None
    assert channels["reviewer"]["role"] == "reviewer"
    assert all(set(c) == {"id", "name", "role", "created_at", "revoked_at", "revoked"} for c in channels.values())

    table = cli("channel", "list")
    assert table.exit_code == 0, table.output
    assert all(channel_id in table.stdout for channel_id in channels)
    assert service.keys["app-a"] not in table.stdout + result.stdout


def test_a_channel_added_with_the_cli_can_call_the_api(service: Service, cli: Cli) -> None:
    result = cli("channel", "add", "suihua-review", "--name", "绥化 reviewers", "--role", "reviewer")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["role"] == "reviewer" and shown["callback_secret"]
    assert get_cases(service, Authorization=f"Bearer {shown['api_key']}")[0] == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["channel", "revoke", "nope"], "no channel 'nope'"),
        (["channel", "rotate", "nope"], "no channel 'nope'"),
        (["channel", "add", "app-a"], "exists already"),
        (["channel", "add", "x", "--role", "admin"], "role 'admin' is not one of"),
    ],
)
def test_channel_command_errors_are_explained_with_exit_code_2(cli: Cli, args: list[str], message: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith("error:")
    assert message in result.stderr


def test_a_revoked_channel_gets_no_new_key(cli: Cli) -> None:
    assert cli("channel", "revoke", "app-a").exit_code == 0
    assert cli("channel", "revoke", "app-a").exit_code == 0  # revoking twice changes nothing
    result = cli("channel", "rotate", "app-a")
    assert result.exit_code == 2
    assert "was revoked" in result.stderr


def test_the_intake_package_does_not_import_the_api() -> None:
    """intake is the core; api depends on it, never the other way round (the CLI makes keys without api)."""
    package = Path(__file__).resolve().parents[2] / "intake"
    offenders = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n == "api" or n.startswith("api.")]
    assert offenders == []
