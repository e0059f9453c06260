"""The OpenAPI schema declares how to authenticate, and the docs pages work offline: every script,
stylesheet and icon they load comes from the service itself.

Runs against real Redis and both databases (SQLite and PostgreSQL)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.api.conftest import Service

pytestmark = pytest.mark.redis

UPLOAD = "/v1/applications/{application_id}/documents"
# Either one: OpenAPI reads a list of security requirements as alternatives.
BOTH_SCHEMES: list[dict[str, list[str]]] = [{"X-API-Key": []}, {"Bearer": []}]


class Assets(HTMLParser):
    """The URLs a page loads: <script src> and <link href>, with the link's rel."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "script" and attributes.get("src"):
            self.scripts.append(attributes["src"])
        elif tag == "link" and attributes.get("href"):
            self.links.append((attributes.get("rel", ""), attributes["href"]))


def test_openapi_declares_both_security_schemes_and_the_upload_endpoint_requires_them(service: Service) -> None:
    schema = service.client.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["X-API-Key"] == {**schemes["X-API-Key"], "type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert schemes["Bearer"] == {**schemes["Bearer"], "type": "http", "scheme": "bearer"}

    upload = schema["paths"][UPLOAD]["post"]
    assert upload["security"] == BOTH_SCHEMES
    # The key is a security scheme, not a header parameter to fill in on every operation.
    headers = {p["name"].lower() for p in upload.get("parameters", []) if p["in"] == "header"}
    assert not headers & {"x-api-key", "authorization"}
    for path, operations in schema["paths"].items():
        if path.startswith("/v1/workspace/"):  # people, not channels: a personal token or the session
            for method, operation in operations.items():
                assert operation.get("security") == [{"UserToken": []}, {"Session": []}], (method, path)
        elif path.startswith("/v1/"):  # every API endpoint takes a key, the same two ways
            for method, operation in operations.items():
                assert operation.get("security") == BOTH_SCHEMES, (method, path)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_every_asset_from_the_service(service: Service, page: str) -> None:
    """GIVEN no network but the service WHEN a browser opens the docs page THEN everything it loads is there."""
    response = service.client.get(page)
    assert response.status_code == 200
    html = response.text
    assert "http://" not in html and "https://" not in html  # no CDN, no web fonts
    assets = Assets()
    assets.feed(html)
    assert assets.scripts, "the page loads its JavaScript"
    expected = [(src, "javascript") for src in assets.scripts]
    for rel, href in assets.links:
        expected.append((href, "text/css" if rel == "stylesheet" else "image/"))
    if page == "/docs":
        assert any(kind == "text/css" for _, kind in expected), "Swagger UI loads its stylesheet"
    for url, kind in expected:
        assert url.startswith("/"), url  # served by the service itself
        asset = service.client.get(url)
        assert asset.status_code == 200, url
        assert kind in asset.headers["content-type"], (url, asset.headers["content-type"])
        assert len(asset.content) > 1000, url


def test_swagger_ui_asks_no_outside_validator(service: Service) -> None:
    # Swagger UI otherwise sends the schema's URL to validator.swagger.io to draw a badge.
    assert '"validatorUrl": null' in service.client.get("/docs").text
