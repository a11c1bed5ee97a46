"""The client id and API token the aggregator gave us, kept in a file only the owner can read (0600)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from fedloom_agent.errors import CheckpointError
from fedloom_agent.files import write_atomic

CREDENTIALS_FILE = "credentials.json"


class Credentials(BaseModel):
    """Who we are to one aggregator."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    server_url: str
    client_id: int = Field(ge=0)
    api_token: SecretStr

    def dump(self) -> bytes:
        """The JSON file content, token in clear (the file is 0600)."""
        secret = self.api_token.get_secret_value()
        return json.dumps({"server_url": self.server_url, "client_id": self.client_id, "api_token": secret}).encode()


def load_credentials(state_dir: Path) -> Credentials | None:
    """The saved credentials, or None when there are none yet."""
    path = state_dir / CREDENTIALS_FILE
    if not path.is_file():
        return None
    try:
        return Credentials.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        raise CheckpointError(f"{path} is damaged ({exc.error_count()} problems); remove it and enrol again") from exc


def save_credentials(state_dir: Path, credentials: Credentials) -> None:
    write_atomic(state_dir / CREDENTIALS_FILE, credentials.dump(), mode=0o600)
