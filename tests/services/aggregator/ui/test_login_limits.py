"""The dashboard's sign-in: a few attempts a minute per address (429 past them), every attempt audited
without the token."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from fedloom_aggregator.app import create_app
from fedloom_aggregator.settings import AggregatorSettings
from servers import serving

ADMIN = "ui-admin-token-0123456789abcdef"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_sign_in_attempts_are_limited_and_audited(tmp_path: Path) -> None:
    audit = tmp_path / "audit.log"
    settings = AggregatorSettings(
        admin_token=ADMIN, artifact_dir=tmp_path, audit_log=audit, ui_login_burst=3, ui_login_per_minute=1
    )
    with serving(create_app(settings)) as url, httpx.Client(base_url=url) as browser:
        guesses = [browser.post("/ui/login", content="token=guess-number-one", headers=FORM) for _ in range(3)]
        codes = [response.status_code for response in guesses]
        assert codes == [401, 401, 401]
        refused = browser.post("/ui/login", content=f"token={ADMIN}", headers=FORM)
        assert refused.status_code == 429 and float(refused.headers["Retry-After"]) > 0
    lines = [json.loads(line) for line in audit.read_text().splitlines() if '"ui-login"' in line]
    assert [line["outcome"] for line in lines] == ["failed", "failed", "failed", "refused"]
    assert all(line["address"] == "127.0.0.1" for line in lines)
    assert "guess-number-one" not in audit.read_text() and ADMIN not in audit.read_text()


def test_the_admin_token_signs_in(tmp_path: Path) -> None:
    audit = tmp_path / "audit.log"
    settings = AggregatorSettings(admin_token=ADMIN, artifact_dir=tmp_path, audit_log=audit)
    with serving(create_app(settings)) as url, httpx.Client(base_url=url) as browser:
        assert browser.post("/ui/login", content=f"token={ADMIN}", headers=FORM).status_code == 303
    (line,) = [json.loads(line) for line in audit.read_text().splitlines() if '"ui-login"' in line]
    assert line["outcome"] == "ok" and ADMIN not in audit.read_text()
