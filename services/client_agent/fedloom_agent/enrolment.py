"""Who we are to the aggregator: an explicit API token, the saved credentials, or a fresh enrolment."""

from __future__ import annotations

import logging

from pydantic import SecretStr

from fedloom.errors import ConfigError
from fedloom.wire.control import EnrollRequest
from fedloom_agent.client import AggregatorClient
from fedloom_agent.credentials import Credentials, load_credentials, save_credentials
from fedloom_agent.settings import AgentSettings

log = logging.getLogger("fedloom.agent")


def _explicit(settings: AgentSettings, api_token: SecretStr, saved: Credentials | None) -> Credentials:
    same = saved is not None and saved.api_token.get_secret_value() == api_token.get_secret_value()
    client_id = settings.client_id if settings.client_id is not None else (saved.client_id if saved and same else None)
    if client_id is None:
        raise ConfigError("--api-token needs --client-id (the id it was issued for) unless the state dir has it saved")
    return Credentials(server_url=settings.server_url, client_id=client_id, api_token=api_token)


def _enrol(settings: AgentSettings, client: AggregatorClient, architecture: str) -> Credentials:
    if settings.enrollment_token is None:
        raise ConfigError(
            f"no credentials for {settings.server_url} in {settings.state_dir}: pass --enrollment-token "
            "(first start) or --api-token with --client-id"
        )
    request = EnrollRequest(
        enrollment_token=settings.enrollment_token.get_secret_value(), name=settings.name, architecture=architecture
    )
    enrollment = client.enroll(request)
    log.info("enrolled with %s as client %d", settings.server_url, enrollment.client_id)
    return Credentials(
        server_url=settings.server_url, client_id=enrollment.client_id, api_token=SecretStr(enrollment.api_token)
    )


def obtain_credentials(settings: AgentSettings, client: AggregatorClient, architecture: str) -> Credentials:
    """Explicit token first, then saved credentials for this server, else enrol; saves the result (0600)."""
    saved = load_credentials(settings.state_dir)
    if settings.api_token is not None:
        credentials = _explicit(settings, settings.api_token, saved)
    elif saved is not None and saved.server_url == settings.server_url:
        log.info("using the saved credentials of client %d", saved.client_id)
        return saved
    else:
        credentials = _enrol(settings, client, architecture)
    save_credentials(settings.state_dir, credentials)
    return credentials
