"""Create, start and follow one federation through the aggregator's admin API; log each finished round."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml
from pydantic import ValidationError

from fedloom.errors import ConfigError, FedLoomError
from fedloom.ops.launcher.settings import LauncherSettings
from fedloom.wire import routes
from fedloom.wire.control import FederationConfig, FederationState

log = logging.getLogger("fedloom.launcher")
POLL_SECONDS = 2.0


def load_federation_config(path: Path, rounds: int | None = None) -> FederationConfig:
    """A FederationConfig from a YAML/JSON file; `rounds` (when given) replaces the file's."""
    try:
        fields: Any = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the federation config {path}: {exc}") from exc
    if not isinstance(fields, dict):
        raise ConfigError(f"the federation config {path} must be a mapping of FederationConfig fields")
    if rounds is not None:
        fields["rounds"] = rounds
    try:
        return FederationConfig.model_validate(fields)
    except ValidationError as exc:
        raise ConfigError(f"invalid federation config {path}: {exc.errors(include_url=False)}") from exc


def wait_until(check: Callable[[], bool], deadline: float, what: str) -> None:
    """Poll `check` (connection errors count as 'not yet') until it holds; FedLoomError at the deadline."""
    while True:
        try:
            if check():
                return
        except httpx.TransportError as exc:
            log.info("waiting for %s: %s", what, exc)
        if time.monotonic() > deadline:
            raise FedLoomError(f"gave up waiting for {what}")
        time.sleep(POLL_SECONDS)


def expect(response: httpx.Response) -> Any:
    if response.is_error:
        request = response.request
        raise FedLoomError(f"{request.method} {request.url.path}: {response.status_code} {response.text}")
    return response.json()


def follow(admin: httpx.Client, fid: str, deadline: float) -> FederationState:
    """Log each round as it is recorded until the federation finishes or fails."""
    logged = 0
    while True:
        state = FederationState.model_validate(expect(admin.get(routes.FEDERATION.format(federation_id=fid))))
        for summary in state.rounds[logged:]:
            log.info("federation %s round %d accuracy %.4f", fid, summary.round, summary.accuracy or 0.0)
        logged = len(state.rounds)
        if state.status in ("finished", "failed"):
            return state
        if time.monotonic() > deadline:
            raise FedLoomError(f"federation {fid} still {state.status} after the timeout")
        time.sleep(POLL_SECONDS)


def launch(settings: LauncherSettings) -> FederationState:
    """Wait for the aggregator and the agents, create and start the federation, follow it to its end."""
    config = load_federation_config(settings.federation_config, settings.rounds)
    wanted = settings.wait_clients or config.min_clients
    deadline = time.monotonic() + settings.timeout_seconds
    headers = {"Authorization": f"Bearer {settings.admin_token.get_secret_value()}"}
    with httpx.Client(base_url=settings.server_url, headers=headers, timeout=settings.request_timeout) as admin:
        wait_until(lambda: admin.get(routes.READYZ).status_code == 200, deadline, "the aggregator")
        wait_until(lambda: len(expect(admin.get(routes.CLIENTS))) >= wanted, deadline, f"{wanted} enrolled clients")
        fid = expect(admin.post(routes.FEDERATIONS, json=config.model_dump(mode="json")))["federation_id"]
        expect(admin.post(routes.FEDERATION_START.format(federation_id=fid)))
        log.info("federation %s started: %s, %d rounds, %d clients", fid, config.algorithm, config.rounds, wanted)
        state = follow(admin, fid, deadline)
    log.info("federation %s %s after %d rounds", fid, state.status, len(state.rounds))
    return state
