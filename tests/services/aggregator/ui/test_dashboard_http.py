"""The /ui routes over real HTTP on a fresh aggregator: sessions, escaping, refusals and headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fedloom_aggregator.app import create_app
from fedloom_aggregator.settings import AggregatorSettings
from servers import serving

TOKEN = "ui-admin-token-0123456789abcdef"


@pytest.fixture
def aggregator(tmp_path: Path) -> Iterator[str]:
    settings = AggregatorSettings(admin_token=TOKEN, artifact_dir=tmp_path / "artifacts")
    with serving(create_app(settings)) as url:
        yield url


def signed_in(url: str) -> httpx.Client:
    browser = httpx.Client(base_url=url, timeout=30)
    response = browser.post("/ui/login", data={"token": TOKEN})
    assert (response.status_code, response.headers["location"]) == (303, "/ui")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/ui" in cookie and TOKEN not in cookie
    return browser


def test_sessions_open_and_close_the_dashboard(aggregator: str) -> None:
    browser = signed_in(aggregator)
    page = browser.get("/ui")
    assert page.status_code == 200 and "no federations yet" in page.text and "no clients enrolled yet" in page.text
    assert (
        page.headers["cache-control"] == "no-store" and "default-src 'self'" in page.headers["content-security-policy"]
    )
    admin_header = httpx.get(f"{aggregator}/ui", headers={"Authorization": f"Bearer {TOKEN}"})
    assert admin_header.status_code == 303  # the dashboard wants its sign-in, not a bearer header
    assert browser.post("/ui/logout").headers["location"] == "/ui/login"
    assert browser.get("/ui").status_code == 303
    assert httpx.get(f"{aggregator}/ui", cookies={"fedloom_ui": "ui_forged"}).status_code == 303


def test_what_clients_send_is_escaped(aggregator: str) -> None:
    with httpx.Client(base_url=aggregator, headers={"Authorization": f"Bearer {TOKEN}"}) as admin:
        token = admin.post("/v1/admin/enrollment-tokens", json={"ttl_seconds": 60}).json()["token"]
    name, architecture = "<script>alert(1)</script>", '"><img src=x onerror=alert(2)>'
    enrolled = httpx.post(
        f"{aggregator}/v1/clients", json={"enrollment_token": token, "name": name, "architecture": architecture}
    )
    assert enrolled.status_code == 201
    page = signed_in(aggregator).get("/ui").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in page and "<img src=x" not in page


def test_refusals(aggregator: str) -> None:
    browser = signed_in(aggregator)
    missing = browser.get("/ui/federations/nope")
    assert missing.status_code == 404 and "federation nope does not exist" in missing.text
    assert browser.get("/ui/static/dashboard.js").headers["content-type"].startswith("text/javascript")
    assert browser.get("/ui/static/dashboard.css").status_code == 200
    for name in ("../routes.py", "%2e%2e%2froutes.py", "secret.txt"):
        assert browser.get(f"/ui/static/{name}").status_code == 404, name
    wrong = browser.post("/ui/login", data={"token": "not-the-admin-token"})
    assert wrong.status_code == 401 and "That is not the admin token." in wrong.text
    assert browser.post("/ui/login", json={"token": TOKEN}).status_code == 415
