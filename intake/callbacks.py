"""Calling an app back when its application has a verdict.

The body is the JSON below; the app verifies it with the channel's callback secret:

    X-Intake-Timestamp: 1790000000
    X-Intake-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>
    X-Intake-Delivery: 42

    {"event": "application.assessed", "delivery_id": 42, "application_id": "…", "external_ref": "…",
     "round": 1, "verdict": "needs_supplement", "problems": […], "notice": "…"}

When a reviewer decides (``intake.workspace.decisions``), the event is ``application.decided`` and the
body adds ``decision`` (``approved``, ``rejected`` or ``needs_supplement``), ``reasons`` (the reject
reason codes with their Chinese labels) and, for an approval, ``valid_until`` (the qualification's last
day before 复审, null when it does not expire); a supplement request's ``notice`` is the reviewer's.

``X-Intake-Delivery`` (also ``delivery_id`` in the body) names one delivery and is the same on every
attempt of it, including one an operator re-sends: a callback can arrive twice (the app answered
but the answer was lost), so an app drops a delivery id it has already handled.

Deliveries live in the database (``callbacks`` table): a failed one is tried again with growing
delays (by the reconciler) until ``callback_max_attempts``, then marked failed for operators.

A callback URL is only ever called on a public internet address (SSRF): ``check_callback_url``
refuses other schemes than http/https and hosts that are, or resolve to, loopback, private,
link-local, multicast, reserved or otherwise not globally routable addresses, unless
``allow_private_callback_urls`` is set. The check runs again at every attempt, since DNS may have
changed since the application was created, and the request goes to the very address that was
checked (the host name travels in ``Host`` and TLS SNI), so a second DNS answer cannot redirect it.
Redirects are never followed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import re
import socket
import time
from enum import StrEnum
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intake.errors import ApplicationInvalid, FieldError
from intake.models import Application, CallbackDelivery, Case, Channel, ReviewDecision, utcnow
from intake.reasons import REJECT_REASONS
from intake.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = ("http", "https")
DELIVERY_HEADER = "X-Intake-Delivery"
PUBLIC_ONLY = "callbacks are sent only to public internet addresses"
# What glibc (and so getaddrinfo, and so the HTTP client) reads as an IPv4 address besides the
# dotted quad: 2130706433, 0x7f.1, 0177.0.0.1, 127.1 — all 127.0.0.1.
_LEGACY_IPV4 = re.compile(r"[0-9a-fx.]+", re.IGNORECASE)


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # to be tried (again) at ``next_attempt_at``
    DELIVERED = "delivered"
    FAILED = "failed"  # every attempt failed: an operator may re-send it


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, max_age_seconds: int = 300) -> bool:
    """What an app does with a callback (also used by our tests): signature and freshness."""
    if abs(time.time() - int(timestamp)) > max_age_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def payload(app: Application, case: Case, *, delivery_id: int,
            decision: ReviewDecision | None = None) -> dict[str, Any]:
    """The callback body for ``case``; ``decision`` is the reviewer's decision made on it, if any."""
    body: dict[str, Any] = {
        "event": "application.decided" if decision else "application.assessed",
        "delivery_id": delivery_id,
        "application_id": app.id,
        "external_ref": app.external_ref,
        "round": case.round,
        "verdict": case.verdict,
        "problems": case.problems,
        "notice": case.notice,
    }
    if decision is not None:
        body["decision"] = decision.decision
        body["reasons"] = [{"code": c, "label": REJECT_REASONS.get(c, c)} for c in decision.reasons]
        if decision.decision == "approved":
            valid_until = case.qualification_valid_until
            body["valid_until"] = valid_until.isoformat() if valid_until else None
    return body


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(15 * 2 ** max(attempts - 1, 0), 3600))


# --- which URLs may be called (SSRF) ------------------------------------------------------------------


def check_callback_url(url: str, *, allow_private: bool) -> None:
    """Refuse (``ApplicationInvalid`` on ``callback_url``) a URL that is not http/https, or whose host
    is or resolves to any address that is not public; with ``allow_private`` only the scheme counts
    (and nothing is resolved)."""
    if allow_private:
        _parse(url)
    else:
        callback_addresses(url, allow_private=False)


def callback_addresses(url: str, *, allow_private: bool) -> tuple[httpx.URL, list[IPAddress]]:
    """The parsed URL and the addresses its host stands for, in the resolver's order, each checked.

    Raises ``ApplicationInvalid`` as ``check_callback_url`` does. With ``allow_private`` nothing is
    refused but the scheme, and a host that does not resolve gives no addresses."""
    parsed = _parse(url)
    host = parsed.raw_host.decode("ascii").rstrip(".").lower()
    literal = _ip_literal(host)
    if literal is not None:
        addresses = [literal]
    elif not allow_private and (host == "localhost" or host.endswith(".localhost")):
        raise _refused(f"{host} is a loopback host name; {PUBLIC_ONLY}")
    else:
        try:
            addresses = _resolve(host, parsed.port or (443 if parsed.scheme == "https" else 80))
        except (OSError, UnicodeError):
            if allow_private:
                return parsed, []
            raise _refused(
                f"the host {host} does not resolve (no DNS answer); give a URL whose host has a public address"
            ) from None
    if not allow_private:
        for address in addresses:
            kind = _not_public(address)
            if kind is not None:
                where = f"{address}" if literal is not None else f"{host} resolves to {address}, which"
                raise _refused(f"{where} is {kind}; {PUBLIC_ONLY}")
    return parsed, addresses


def _refused(message: str) -> ApplicationInvalid:
    return ApplicationInvalid.of([FieldError("callback_url", message)])


def _parse(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise _refused(f"not a valid URL ({exc})") from None
    if parsed.scheme not in SCHEMES:
        raise _refused(f"the scheme must be http or https, not {parsed.scheme or 'none'!r}")
    if not parsed.raw_host:
        raise _refused("the URL names no host")
    return parsed


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _LEGACY_IPV4.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None  # a host name made of hex letters, e.g. "cafe.be"
    return None


def _resolve(host: str, port: int) -> list[IPAddress]:
    addresses: list[IPAddress] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = ipaddress.ip_address(str(sockaddr[0]))
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise OSError(f"no address for {host}")
    return addresses


def _not_public(address: IPAddress) -> str | None:
    """What this address is when it is not a public one ("a loopback address", …), else None."""
    if isinstance(address, ipaddress.IPv6Address):
        # IPv6 forms that carry an IPv4 address lead to that address: judge it too.
        for form, embedded in (("an IPv4-mapped", address.ipv4_mapped), ("a 6to4", address.sixtofour),
                               ("a Teredo", address.teredo[1] if address.teredo else None)):
            kind = _not_public(embedded) if embedded is not None else None
            if kind is not None:
                return f"{form} form of {embedded}, {kind}"
        if address.is_site_local:
            return "a site-local address"
    checks = (
        ("a loopback", address.is_loopback),
        ("an unspecified", address.is_unspecified),
        ("a link-local", address.is_link_local),
        ("a multicast", address.is_multicast),
        ("a private", address.is_private),
        ("a reserved", address.is_reserved),
        ("a not globally routable", not address.is_global),
    )
    return next((f"{kind} address" for kind, hit in checks if hit), None)


# --- delivering ---------------------------------------------------------------------------------------


def deliver(sessions: sessionmaker[Session], delivery_id: int, *, settings: Settings) -> str:
    """Try one delivery now; record the outcome. Idempotent: a delivered callback is not re-sent."""
    with sessions.begin() as session:
        delivery = session.get(CallbackDelivery, delivery_id)
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return "skipped"
        app = session.get(Application, delivery.application_id)
        case = session.get(Case, delivery.case_id)
        channel = session.get(Channel, app.channel_id) if app else None
        if app is None or case is None or channel is None:
            delivery.status, delivery.last_error = DeliveryStatus.FAILED, "application, case or channel is gone"
            return "failed"
        decision = session.scalar(select(ReviewDecision).where(ReviewDecision.case_id == case.id))
        body = json.dumps(payload(app, case, delivery_id=delivery_id, decision=decision), ensure_ascii=False,
                          separators=(",", ":")).encode()
        url, secret = delivery.url, channel.callback_secret
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-Intake-Timestamp": timestamp,
               "X-Intake-Signature": sign(secret, timestamp, body), DELIVERY_HEADER: str(delivery_id)}
    error: str | None
    try:
        target, addresses = callback_addresses(url, allow_private=settings.allow_private_callback_urls)
    except ApplicationInvalid as exc:
        reason = exc.errors[0].message if exc.errors else str(exc)
        error = f"refused, no request sent: {reason}"
    else:
        error = _post(target, addresses, body=body, headers=headers,
                      timeout=settings.queue.callback_timeout_seconds)
    with sessions.begin() as session:
        delivery = session.get(CallbackDelivery, delivery_id)
        assert delivery is not None
        delivery.attempts += 1
        if error is None:
            delivery.status, delivery.last_error = DeliveryStatus.DELIVERED, None
            return "delivered"
        delivery.last_error = error
        if delivery.attempts >= settings.queue.callback_max_attempts:
            delivery.status = DeliveryStatus.FAILED
        else:
            delivery.next_attempt_at = utcnow() + backoff(delivery.attempts)
        return "retry later"


def _post(url: httpx.URL, addresses: list[IPAddress], *, body: bytes, headers: dict[str, str],
          timeout: float) -> str | None:
    """POST to the checked addresses in turn (the next one only when one cannot be connected to);
    None when the app took it, else what went wrong."""
    error = "no address to connect to"
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for target, extra_headers, extensions in _pinned(url, addresses):
            request = client.build_request("POST", target, content=body, headers={**headers, **extra_headers},
                                           extensions=extensions)
            try:
                response = client.send(request)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                error = f"{type(exc).__name__}: {exc}"
                continue
            except httpx.HTTPError as exc:
                return f"{type(exc).__name__}: {exc}"
            return None if response.status_code < 300 else f"HTTP {response.status_code}"
    return error


def _pinned(url: httpx.URL, addresses: list[IPAddress]) -> list[tuple[httpx.URL, dict[str, str], dict[str, Any]]]:
    """The request to send per address: to the address itself, the host name in ``Host`` and SNI."""
    if not addresses:
        return [(url, {}, {})]  # allowed private, and the host does not resolve: let the client say so
    host_header = {"Host": url.netloc.decode("ascii")}
    tls = {"sni_hostname": url.raw_host.decode("ascii")} if url.scheme == "https" else {}
    requests: list[tuple[httpx.URL, dict[str, str], dict[str, Any]]] = []
    for address in addresses:
        if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
            requests.append((url, {}, {}))  # a link-local address (allowed private) needs its interface
        else:
            pinned = url.copy_with(host=f"[{address}]" if address.version == 6 else str(address))
            requests.append((pinned, host_header, tls))
    return requests
