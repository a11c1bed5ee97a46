"""The live federation of the dashboard and operator-CLI tests: its settings, agents and a handle on it."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from fedloom_agent import Agent, AgentSettings

ADMIN = "dashboard-admin-token-0123456789"
CLIENTS, ROUNDS = 2, 2
FEDERATION = {
    "algorithm": "fedktl",
    "options": {"server_epochs": 5},
    "num_classes": 10,
    "feature_dim": 32,
    "input_shape": [3, 32, 32],
    "rounds": ROUNDS,
    "generator": "builtin",
    "round_deadline_seconds": 180,
}


@dataclass
class LiveFederation:
    url: str
    federation_id: str
    admin: httpx.Client
    agent_dirs: list[Path] = field(default_factory=list)

    def client_token(self, index: int = 0) -> str:
        """The API token agent `index` received at enrolment (from its saved credentials)."""
        return str(json.loads((self.agent_dirs[index] / "credentials.json").read_text())["api_token"])

    def state(self, fid: str | None = None) -> dict[str, Any]:
        return dict(self.admin.get(f"/v1/federations/{fid or self.federation_id}").json())

    def finished(self, fid: str | None = None, seconds: float = 300.0) -> dict[str, Any]:
        """A federation's state (default: the 2-round one) once it stopped running; asserts that it finished."""
        deadline = time.monotonic() + seconds
        while (state := self.state(fid))["status"] == "running":
            assert time.monotonic() < deadline, state
            time.sleep(0.3)
        assert state["status"] == "finished", state
        return state


def start_agent(url: str, admin: httpx.Client, index: int, root: Path, stop: threading.Event) -> threading.Thread:
    token = admin.post("/v1/admin/enrollment-tokens", json={"ttl_seconds": 300}).json()["token"]
    settings = AgentSettings(
        server_url=url,
        enrollment_token=token,
        name=f"edge-{index}",
        data=f"synthetic,clients={CLIENTS},index={index},samples=240,partition=iid,seed=0,image_shape=3x32x32",
        model=f"cpu4:{index}",
        state_dir=root / f"agent-{index}",
        poll_wait=0.5,
    )
    thread = threading.Thread(target=Agent(settings).run, args=(stop,), name=f"agent-{index}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    saved = settings.state_dir / "credentials.json"  # written once the agent has its API token
    while len(admin.get("/v1/clients").json()) <= index or not saved.exists():  # one at a time: ids follow index
        assert thread.is_alive() and time.monotonic() < deadline, "the agent did not enrol"
        time.sleep(0.1)
    return thread
