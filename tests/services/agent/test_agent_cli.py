import argparse
from pathlib import Path

import pytest
from pydantic import SecretStr

from fedloom.errors import ConfigError
from fedloom_agent import AggregatorClient
from fedloom_agent.command import add_agent, build_agent_parser, main, run_agent, settings_from_args
from fedloom_agent.credentials import Credentials, load_credentials, save_credentials
from fedloom_agent.enrolment import obtain_credentials
from fedloom_agent.settings import AgentSettings

BASE = ["--server", "http://aggregator:8000/", "--data", "synthetic,index=0"]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SERVER_URL", "DATA", "API_TOKEN", "ENROLLMENT_TOKEN", "CLIENT_ID", "MAX_RETRIES", "MODEL"):
        monkeypatch.delenv(f"FEDLOOM_{name}", raising=False)


def test_flags_override_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FEDLOOM_MAX_RETRIES", "9")
    monkeypatch.setenv("FEDLOOM_MODEL", "cnn4")
    flags = [*BASE, "--enrollment-token", "t0k", "--model", "hcnn8:3", "--state-dir", str(tmp_path), "--poll-wait", "5"]
    settings = settings_from_args(build_agent_parser().parse_args(flags))
    assert settings.server_url == "http://aggregator:8000" and settings.model == "hcnn8:3"
    assert settings.max_retries == 9 and settings.poll_wait == 5.0 and settings.state_dir == tmp_path
    assert settings.enrollment_token is not None and settings.enrollment_token.get_secret_value() == "t0k"
    assert "t0k" not in repr(settings)


def test_bad_command_lines_are_refused() -> None:
    parser = build_agent_parser()
    with pytest.raises(SystemExit):
        parser.parse_args([*BASE, "--enrollment-token", "a", "--api-token", "b"])
    with pytest.raises(ConfigError, match="server_url"):
        settings_from_args(parser.parse_args(["--data", "synthetic,index=0"]))
    with pytest.raises(ConfigError, match="must start with http"):
        settings_from_args(parser.parse_args(["--server", "ftp://x", "--data", "synthetic,index=0"]))
    assert main([*BASE[:2], "--data", "synthetic,clients=2"]) == 2  # no index: a ConfigError, exit status 2


def test_the_subcommand_registers_in_the_fedloom_cli_style() -> None:
    parser = argparse.ArgumentParser(prog="fedloom")
    add_agent(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["agent", *BASE, "--api-token", "x", "--client-id", "3"])
    assert args.handler is run_agent and args.client_id == 3


def settings(tmp_path: Path, **fields: object) -> AgentSettings:
    return AgentSettings(server_url="http://a:1", data="synthetic,index=0", state_dir=tmp_path, **fields)  # type: ignore[arg-type]


def test_credentials_come_from_the_flags_or_the_state_dir(tmp_path: Path) -> None:
    client = AggregatorClient("http://a:1")  # never called: no enrolment in these cases
    with pytest.raises(ConfigError, match="pass --enrollment-token"):
        obtain_credentials(settings(tmp_path), client, "cnn4")
    with pytest.raises(ConfigError, match="needs --client-id"):
        obtain_credentials(settings(tmp_path, api_token="tok"), client, "cnn4")
    explicit = obtain_credentials(settings(tmp_path, api_token="tok", client_id=5), client, "cnn4")
    assert explicit.client_id == 5 and load_credentials(tmp_path) == explicit
    assert obtain_credentials(settings(tmp_path), client, "cnn4") == explicit  # saved for the next start
    assert obtain_credentials(settings(tmp_path, api_token="tok"), client, "cnn4").client_id == 5
    save_credentials(tmp_path, Credentials(server_url="http://elsewhere", client_id=1, api_token=SecretStr("x")))
    with pytest.raises(ConfigError, match="no credentials for http://a:1"):
        obtain_credentials(settings(tmp_path), client, "cnn4")
    client.close()
