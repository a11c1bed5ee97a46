"""`fedloom federation run` and `fedloom probe`: config files, clear refusals, exit codes."""

from pathlib import Path

import pytest

from fedloom.cli import main
from fedloom.errors import ConfigError, FedLoomError
from fedloom.ops.launcher import LauncherSettings, launch, load_federation_config
from fedloom_aggregator.app import create_app
from fedloom_aggregator.settings import AggregatorSettings
from servers import serving

ADMIN = "admin-token-for-tests-0123456789"
DEV_FEDERATION = Path(__file__).resolve().parents[3] / "deploy" / "k8s" / "overlays" / "dev" / "federation.yaml"


def test_the_demo_federation_file_loads_and_rounds_can_be_overridden() -> None:
    config = load_federation_config(DEV_FEDERATION)
    assert config.algorithm == "fedktl" and config.generator == "remote" and config.min_clients == 3
    assert load_federation_config(DEV_FEDERATION, rounds=2).rounds == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- just\n- a list\n", "must be a mapping"),
        ("algorithm: fedktl\nnum_classes: 10\nrounds: 0\n", "rounds"),
        ("algorithm: fedktl\nnum_classes: 10\nrounds: 2\nunknown_field: 1\n", "unknown_field"),
        ("algorithm: [unclosed\n", "cannot read"),
    ],
)
def test_bad_federation_files_are_refused_clearly(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "federation.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_federation_config(path)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nowhere.yaml"):
        load_federation_config(tmp_path / "nowhere.yaml")


def test_missing_settings_name_their_variables(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("FEDLOOM_SERVER_URL", "FEDLOOM_ADMIN_TOKEN", "FEDLOOM_FEDERATION_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    assert main(["federation", "run"]) == 2
    error = capsys.readouterr().err
    assert "FEDLOOM_SERVER_URL" in error and "FEDLOOM_ADMIN_TOKEN" in error and "FEDLOOM_FEDERATION_CONFIG" in error


def test_it_gives_up_when_too_few_agents_enrol(tmp_path: Path) -> None:
    settings = AggregatorSettings(admin_token=ADMIN, artifact_dir=tmp_path / "artifacts")
    with serving(create_app(settings)) as url:
        launcher = LauncherSettings(
            server_url=url, admin_token=ADMIN, federation_config=DEV_FEDERATION, timeout_seconds=1.5
        )
        with pytest.raises(FedLoomError, match="3 enrolled clients"):
            launch(launcher)
        assert main(["probe", f"{url}/readyz"]) == 0
        assert main(["probe", f"{url}/no-such-route"]) == 1


def test_a_wrong_admin_token_is_reported(tmp_path: Path) -> None:
    settings = AggregatorSettings(admin_token=ADMIN, artifact_dir=tmp_path / "artifacts")
    with serving(create_app(settings)) as url:
        launcher = LauncherSettings(
            server_url=url, admin_token="not-the-admin-token-at-all", federation_config=DEV_FEDERATION
        )
        with pytest.raises(FedLoomError, match="401"):
            launch(launcher)


def test_probe_fails_on_a_closed_port() -> None:
    assert main(["probe", "http://127.0.0.1:9/healthz", "--timeout", "1"]) == 1
