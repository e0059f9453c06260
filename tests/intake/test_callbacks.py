"""Callbacks: the SSRF guard on ``callback_url``, at creation and again at every delivery; the
request goes to the address that was checked; every attempt of one delivery carries its id.

DNS is faked (``socket.getaddrinfo``): a name the test does not know fails the test instead of
asking a real resolver, so nothing here depends on the network."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from intake.callbacks import DELIVERY_HEADER, check_callback_url, deliver, verify
from intake.db import session_factory
from intake.errors import ApplicationInvalid
from intake.models import Application, CallbackDelivery, Case, Channel
from intake.settings import DatabaseSettings, Settings

_real_getaddrinfo = socket.getaddrinfo


@dataclass
class FakeDns:
    """Names the test resolves: a list of addresses, or None for "no such host". Numeric hosts go
    to the real resolver (no DNS involved); ``lookups`` counts each name asked."""

    answers: dict[str, list[list[str] | None]] = field(default_factory=dict)
    lookups: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, *answers: list[str] | None) -> None:
        """Each answer serves one lookup, the last one every later lookup; None: no such host."""
        self.answers[name] = list(answers)

    def getaddrinfo(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in self.answers:
            try:
                return _real_getaddrinfo(host, port, *args, **{**kwargs, "flags": socket.AI_NUMERICHOST})
            except socket.gaierror:
                raise AssertionError(f"unexpected DNS lookup of {name!r}") from None
        count = self.lookups[name] = self.lookups.get(name, 0) + 1
        answers = self.answers[name]
        addresses = answers[min(count, len(answers)) - 1]
        if addresses is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, int(port or 0), 0, 0)) if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, int(port or 0)))
            for a in addresses
        ]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    fake = FakeDns()
    monkeypatch.setattr(socket, "getaddrinfo", fake.getaddrinfo)
    return fake


def refusal(url: str, *, allow_private: bool = False) -> str:
    with pytest.raises(ApplicationInvalid) as caught:
        check_callback_url(url, allow_private=allow_private)
    [error] = caught.value.errors
    assert error.field == "callback_url"
    return error.message


# --- check_callback_url --------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "named"), [
    ("http://127.0.0.1/hook", "loopback"),
    ("http://127.8.9.10:8080/hook", "loopback"),
    ("http://10.1.2.3/hook", "private"),
    ("http://172.16.0.1/hook", "private"),
    ("http://172.31.255.254/hook", "private"),
    ("http://192.168.1.20/hook", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://0.0.0.0:8000/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://100.64.0.1/", "not globally routable"),  # carrier-grade NAT
    ("http://[::1]/hook", "loopback"),
    ("http://[::]/hook", "unspecified"),
    ("http://[fc00::1]/hook", "private"),
    ("http://[fd12:3456:789a::1]/hook", "private"),
    ("http://[fe80::1]/hook", "link-local"),
    ("http://[::ffff:127.0.0.1]/hook", "IPv4-mapped form of 127.0.0.1, a loopback"),
    ("http://[::ffff:10.0.0.1]/hook", "IPv4-mapped form of 10.0.0.1, a private"),
    ("http://[2002:7f00:1::]/hook", "6to4 form of 127.0.0.1"),
    ("http://localhost:8000/hook", "loopback host name"),
    ("http://LOCALHOST./hook", "loopback host name"),
    ("http://api.localhost/hook", "loopback host name"),
    ("http://2130706433/hook", "127.0.0.1 is a loopback"),  # decimal
    ("http://0x7f.1/hook", "127.0.0.1 is a loopback"),  # hex, short form
    ("http://0x7f000001/hook", "127.0.0.1 is a loopback"),
    ("http://0xa9fea9fe/latest/meta-data/", "169.254.169.254 is a link-local"),
    ("http://0/hook", "0.0.0.0 is an unspecified"),
])
def test_addresses_that_are_not_public_are_refused_without_asking_dns(dns: FakeDns, url: str, named: str) -> None:
    message = refusal(url)
    assert named in message and "public" in message
    assert dns.lookups == {}


def test_a_host_that_resolves_to_any_address_that_is_not_public_is_refused(dns: FakeDns) -> None:
    dns.add("intranet.example.com", ["10.0.0.5"])
    dns.add("mixed.example.com", ["93.184.216.34", "192.168.0.7"])
    dns.add("six.example.com", ["2606:4700::1", "fd00::7"])
    dns.add("rebound.example.com", ["::ffff:127.0.0.1"])
    assert "intranet.example.com resolves to 10.0.0.5, which is a private address" in refusal(
        "https://intranet.example.com/hook")
    assert "192.168.0.7" in refusal("https://mixed.example.com/hook")
    assert "fd00::7" in refusal("https://six.example.com/hook")
    assert "127.0.0.1" in refusal("http://rebound.example.com/hook")


def test_a_host_that_does_not_resolve_is_refused_with_its_own_message(dns: FakeDns) -> None:
    dns.add("nowhere.invalid", None)
    message = refusal("https://nowhere.invalid/hook")
    assert "does not resolve" in message and "nowhere.invalid" in message


@pytest.mark.parametrize("url", ["ftp://files.example.com/hook", "file:///etc/passwd", "gopher://example.com/",
                                 "javascript:alert(1)", "//example.com/hook", "http:///hook"])
def test_only_http_and_https_urls_with_a_host_are_called(dns: FakeDns, url: str) -> None:
    refusal(url)
    refusal(url, allow_private=True)
    assert dns.lookups == {}


def test_the_scheme_is_named_in_the_refusal(dns: FakeDns) -> None:
    assert "http or https, not 'ftp'" in refusal("ftp://files.example.com/hook")


@pytest.mark.parametrize("url", ["https://1.1.1.1/hook", "http://8.8.8.8:8080/x?y=1",
                                 "https://[2606:4700:4700::1111]/hook"])
def test_a_public_ip_literal_is_accepted_without_dns(dns: FakeDns, url: str) -> None:
    check_callback_url(url, allow_private=False)
    assert dns.lookups == {}


def test_a_host_with_only_public_addresses_is_accepted(dns: FakeDns) -> None:
    dns.add("hooks.example.com", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
    check_callback_url("https://hooks.example.com/intake?x=1", allow_private=False)
    assert dns.lookups == {"hooks.example.com": 1}


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/hook", "http://localhost/hook", "http://10.0.0.7/hook",
                                 "http://[::1]:9000/hook", "http://0x7f.1/hook", "http://intranet.corp/hook"])
def test_everything_but_the_scheme_is_allowed_with_allow_private(dns: FakeDns, url: str) -> None:
    check_callback_url(url, allow_private=True)
    assert dns.lookups == {}  # nothing to resolve: no address is refused


# --- delivering ----------------------------------------------------------------------------------------


class Receiver(ThreadingHTTPServer):
    """A local app: answers each POST with the next of ``statuses`` (the last one repeats)."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[dict[str, str], bytes]] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers), body))
        code = self.server.statuses.pop(0) if len(self.server.statuses) > 1 else self.server.statuses[0]
        self.send_response(code)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(503, 204)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


SECRET = "callback-secret"


def pending_delivery(sessions: sessionmaker[Session], url: str) -> int:
    """An assessed application of channel ``app-a`` with a pending callback delivery to ``url``."""
    with sessions.begin() as session:
        if session.get(Channel, "app-a") is None:
            session.add(Channel(id="app-a", name="app-a", role="app", api_key_sha256="0" * 64,
                                callback_secret=SECRET))
            session.flush()
        app = Application(channel_id="app-a", external_ref="REF-7", applicant_name="张三",
                          id_number="230102195703152419", disease="糖尿病", region="绥化市",
                          application_date=dt.date(2026, 3, 5), status="needs_supplement", round=1, callback_url=url)
        session.add(app)
        session.flush()
        case = Case(application_id=app.id, round=1, verdict="needs_supplement", problems=["missing:lab_report"],
                    notice="请补充检验报告。", report={})
        session.add(case)
        session.flush()
        delivery = CallbackDelivery(application_id=app.id, case_id=case.id, url=url)
        session.add(delivery)
        session.flush()
        return delivery.id


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    return session_factory(f"sqlite:///{tmp_path / 'intake.db'}")


def settings(tmp_path: Path, *, allow_private: bool) -> Settings:
    return Settings(db=DatabaseSettings(url=f"sqlite:///{tmp_path / 'intake.db'}"),
                    allow_private_callback_urls=allow_private)


def test_every_attempt_of_a_delivery_carries_the_same_delivery_id(
    tmp_path: Path, sessions: sessionmaker[Session], receiver: Receiver
) -> None:
    """GIVEN an app that answers the first POST with 503 and the next with 204
    WHEN the delivery is tried, fails, and is tried again
    THEN both requests carry the same ``X-Intake-Delivery`` (the delivery's id, also in the body),
    so the app can tell a repeat from a new callback; another delivery has another id."""
    url = f"http://127.0.0.1:{receiver.port}/hook"
    delivery_id = pending_delivery(sessions, url)
    config = settings(tmp_path, allow_private=True)
    assert deliver(sessions, delivery_id, settings=config) == "retry later"
    assert deliver(sessions, delivery_id, settings=config) == "delivered"
    assert len(receiver.received) == 2
    for headers, body in receiver.received:
        assert headers[DELIVERY_HEADER] == str(delivery_id)
        assert json.loads(body)["delivery_id"] == delivery_id
        assert verify(SECRET, headers["X-Intake-Timestamp"], body, headers["X-Intake-Signature"])

    other = pending_delivery(sessions, url)
    assert deliver(sessions, other, settings=config) == "delivered"
    assert receiver.received[-1][0][DELIVERY_HEADER] == str(other) != str(delivery_id)


def test_a_callback_url_resolving_to_a_private_address_is_refused_at_delivery(
    tmp_path: Path, sessions: sessionmaker[Session], receiver: Receiver, dns: FakeDns
) -> None:
    """GIVEN an application whose callback host now resolves to a loopback address (it was public
    when the application was created, or the check was skipped)
    WHEN the delivery is tried with private addresses not allowed
    THEN no request is sent, and the attempt fails with a last_error that says why."""
    dns.add("hooks.example.com", ["127.0.0.1"])
    delivery_id = pending_delivery(sessions, f"http://hooks.example.com:{receiver.port}/hook")
    assert deliver(sessions, delivery_id, settings=settings(tmp_path, allow_private=False)) == "retry later"
    assert receiver.received == []
    with sessions() as session:
        delivery = session.get_one(CallbackDelivery, delivery_id)
        assert delivery.status == "pending" and delivery.attempts == 1
        assert delivery.last_error is not None
        assert delivery.last_error.startswith("refused, no request sent")
        assert "hooks.example.com resolves to 127.0.0.1" in delivery.last_error


def test_the_request_goes_to_the_address_that_was_checked(
    tmp_path: Path, sessions: sessionmaker[Session], receiver: Receiver, dns: FakeDns
) -> None:
    """The host is resolved once per attempt and the request sent to that address, with the name in
    ``Host``: the HTTP client does not ask DNS again (a second answer is never used)."""
    receiver.statuses = [204]
    dns.add("hooks.example.com", ["127.0.0.1"], None)  # a second lookup would find nothing
    delivery_id = pending_delivery(sessions, f"http://hooks.example.com:{receiver.port}/hook")
    assert deliver(sessions, delivery_id, settings=settings(tmp_path, allow_private=True)) == "delivered"
    [(headers, _body)] = receiver.received
    assert headers["Host"] == f"hooks.example.com:{receiver.port}"
    assert dns.lookups == {"hooks.example.com": 1}


def test_a_second_dns_answer_cannot_send_a_delivery_to_a_private_address(
    tmp_path: Path, sessions: sessionmaker[Session], dns: FakeDns, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a host whose DNS answers a public address first and loopback afterwards (rebinding)
    WHEN the delivery is sent over https
    THEN the connection is made to the public address that was checked, the name travels in
    ``Host`` and as the TLS server name (so its certificate is still verified)."""
    dns.add("hooks.example.com", ["93.184.216.34"], ["127.0.0.1"])
    sent: list[httpx.Request] = []

    def send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204, request=request)

    monkeypatch.setattr(httpx.Client, "send", send)
    delivery_id = pending_delivery(sessions, "https://hooks.example.com/intake/hook?x=1")
    assert deliver(sessions, delivery_id, settings=settings(tmp_path, allow_private=False)) == "delivered"
    [request] = sent
    assert str(request.url) == "https://93.184.216.34/intake/hook?x=1"
    assert request.headers["Host"] == "hooks.example.com"
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    assert request.headers[DELIVERY_HEADER] == str(delivery_id)
