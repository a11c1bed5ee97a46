"""deploy/docker-compose.yml: accepted by docker-compose, wired by the rules that matter, no setting drift."""

from __future__ import annotations

import os
import re
import subprocess
from typing import Any

import pytest
from deploy_files import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    GPU_OVERRIDE,
    LIBRARY_VARIABLES,
    compose_plans,
    compose_variables,
    is_fedloom,
    load_compose,
    read_env_file,
)

from fedloom.cli import build_parser
from system_tools import require_tool

VARIABLES = read_env_file(ENV_EXAMPLE)
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
PROFILE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose(VARIABLES)


def docker_compose(*args: str) -> subprocess.CompletedProcess[str]:
    binary = require_tool("docker-compose", "docker-compose")
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    return subprocess.run([binary, *args], capture_output=True, text=True, env=env, cwd="/", check=False)


@pytest.mark.parametrize("files", [[COMPOSE_FILE], [COMPOSE_FILE, GPU_OVERRIDE]], ids=["cpu", "gpu-override"])
def test_docker_compose_accepts_the_files(files: list[Any]) -> None:
    args = [arg for path in files for arg in ("-f", str(path))]
    done = docker_compose(*args, "--env-file", str(ENV_EXAMPLE), "config", "-q")
    assert done.returncode == 0, done.stderr


def test_secrets_are_required_not_hard_coded() -> None:
    done = docker_compose("-f", str(COMPOSE_FILE), "config", "-q")  # no .env: compose must refuse
    assert done.returncode != 0 and "deploy/.env" in done.stderr
    text = COMPOSE_FILE.read_text()
    for secret in ("FEDLOOM_ADMIN_TOKEN", "FEDLOOM_SHARED_ENROLLMENT_TOKEN", "REDIS_PASSWORD", "MINIO_ROOT_PASSWORD"):
        assert re.search(rf"\${{{secret}:\?", text), f"{secret} must be a required variable"
        assert VARIABLES[secret].startswith("replace-with"), ".env.example holds placeholders only"


def test_env_example_lists_every_variable() -> None:
    used = compose_variables(COMPOSE_FILE) | compose_variables(GPU_OVERRIDE)
    assert used == set(VARIABLES)


def test_every_service_is_healthchecked_and_dependencies_wait_for_health(compose: dict[str, Any]) -> None:
    services = compose["services"]
    one_shot = {"minio-init", "launcher"}
    for name, service in services.items():
        if name not in one_shot:
            assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert rule["condition"] in CONDITIONS
            expected = "service_completed_successfully" if dependency in one_shot else "service_healthy"
            assert rule["condition"] == expected, f"{name} -> {dependency}"
    assert set(services["aggregator"]["depends_on"]) == {"redis", "minio", "minio-init", "generator"}


def test_state_lives_on_named_volumes(compose: dict[str, Any]) -> None:
    services, volumes = compose["services"], set(compose["volumes"])
    assert "redis-data:/data" in services["redis"]["volumes"]
    assert "--appendonly yes" in " ".join(services["redis"]["command"])
    assert "minio-data:/data" in services["minio"]["volumes"]
    agents = [name for name in services if name.startswith("agent-")]
    assert len(agents) >= 3
    for name in agents:
        (volume,) = services[name]["volumes"]
        assert volume.split(":")[0] in volumes and volume.endswith(services[name]["environment"]["FEDLOOM_STATE_DIR"])
    named = {v.split(":")[0] for s in services.values() for v in s.get("volumes", []) if not v.startswith(".")}
    assert named == volumes


def test_agents_have_their_own_partition_and_architecture(compose: dict[str, Any]) -> None:
    agents = [s["environment"] for name, s in compose["services"].items() if name.startswith("agent-")]
    indices = [re.search(r"index=(\d+)", env["FEDLOOM_DATA"]).group(1) for env in agents]  # type: ignore[union-attr]
    assert indices == [str(i) for i in range(len(agents))]
    assert [env["FEDLOOM_MODEL"] for env in agents] == [f"hcnn8:{i}" for i in range(len(agents))]
    assert all(f"clients={len(agents)}," in env["FEDLOOM_DATA"] for env in agents)


def test_only_the_aggregator_reaches_the_stores(compose: dict[str, Any]) -> None:
    networks = {name: set(s.get("networks", [])) for name, s in compose["services"].items()}
    assert {name for name, nets in networks.items() if "stores" in nets} == {
        "redis",
        "minio",
        "minio-init",
        "aggregator",
    }
    assert {name for name, nets in networks.items() if "generation" in nets} == {"generator", "aggregator"}
    assert compose["networks"]["stores"]["internal"] and compose["networks"]["generation"]["internal"]


def test_profiles_and_the_gpu_override() -> None:
    gpu = load_compose(VARIABLES, GPU_OVERRIDE)["services"]
    assert set(gpu) == {"generator"}
    (device,) = gpu["generator"]["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
    assert gpu["generator"]["environment"]["FEDLOOM_DEVICE"] == "cuda"
    services = load_compose(VARIABLES)["services"]
    profiled = {name for name, s in services.items() if s.get("profiles")}
    for name, service in services.items():
        assert all(PROFILE.match(p) for p in service.get("profiles", []))
        if name not in profiled:  # `docker compose up` without a profile must not need a profiled service
            assert not set(service.get("depends_on", {})) & profiled, name


def test_every_environment_variable_is_a_setting(compose: dict[str, Any]) -> None:
    for plan in compose_plans(compose):
        fields = {f"FEDLOOM_{name.upper()}" for name in plan.settings_model.model_fields}
        unknown = {v for v in plan.env if v not in fields and v not in LIBRARY_VARIABLES}
        assert not unknown, f"{plan.name}: {unknown} are not fields of {plan.settings_model.__name__}"
        plan.settings_model(**{k.removeprefix("FEDLOOM_").lower(): v for k, v in plan.env.items() if k in fields})


def test_every_command_exists_in_the_cli(compose: dict[str, Any]) -> None:
    fedloom = [s for s in compose["services"].values() if is_fedloom(s.get("image", ""))]
    assert len(fedloom) >= 6
    for service in fedloom:
        build_parser().parse_args([str(a) for a in service["command"]])
        check = service["healthcheck"]
        if not check.get("disable"):
            assert check["test"][:2] == ["CMD", "fedloom"]
            build_parser().parse_args(check["test"][2:])
