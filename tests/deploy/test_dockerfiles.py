"""Dockerfile rules (no hadolint here): multi-stage, pinned bases, small runtime, non-root, health check,
`fedloom` entry point whose command exists in the CLI, exec-form instructions, a strict .dockerignore."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
from deploy_files import LIBRARY_VARIABLES, REPO, settings_model

from fedloom.cli import build_parser

DOCKERFILES = sorted((REPO / "services").glob("*/Dockerfile"))
SERVICE_PACKAGES = {
    "aggregator": "fedloom_aggregator",
    "generator": "fedloom_generator",
    "client_agent": "fedloom_agent",
}
SERVICES = set(SERVICE_PACKAGES)
INSTALL_SCRIPT = REPO / "services" / "install-fedloom.sh"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def parse(path: Path) -> list[Instruction]:
    """Instructions with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [Instruction(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def last_stage(instructions: list[Instruction]) -> list[Instruction]:
    starts = [i for i, ins in enumerate(instructions) if ins.keyword == "FROM"]
    return instructions[starts[-1] :]


def exec_form(ins: Instruction) -> list[str]:
    words = ins.args.split("CMD", 1)[1] if ins.keyword == "HEALTHCHECK" else ins.args
    parsed = json.loads(words.strip())
    assert isinstance(parsed, list), f"{ins.keyword} must use the exec (JSON) form"
    return [str(word) for word in parsed]


def test_one_dockerfile_per_service() -> None:
    assert {p.parent.name for p in DOCKERFILES} == SERVICES


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_multi_stage_with_pinned_bases(path: Path) -> None:
    instructions = parse(path)
    froms = [ins.args for ins in instructions if ins.keyword == "FROM"]
    assert len(froms) >= 2, "build and runtime stages"
    args = {
        ins.args.split("=")[0]: ins.args.split("=", 1)[1]
        for ins in instructions
        if ins.keyword == "ARG" and "=" in ins.args
    }
    for base in froms:
        image = base.split()[0]
        image = args.get(image.strip("${}"), image)
        assert ":" in image and not image.endswith(":latest"), f"pin the base image: {image}"
        assert re.search(r":\d+\.\d+", image), f"pin a version, not a moving tag: {image}"
    assert "--from=build" in " ".join(i.args for i in last_stage(instructions) if i.keyword == "COPY")


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_runtime_stage_is_non_root_with_a_healthcheck(path: Path) -> None:
    runtime = last_stage(parse(path))
    users = [ins.args for ins in runtime if ins.keyword == "USER"]
    assert users, "the runtime stage must switch to a non-root user"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) >= 1000, "numeric non-root uid (Kubernetes' runAsNonRoot checks it)"
    (healthcheck,) = [ins for ins in runtime if ins.keyword == "HEALTHCHECK"]
    probe = exec_form(healthcheck)
    assert probe[:2] == ["fedloom", "probe"] and probe[2].endswith("/healthz")
    assert [ins.keyword for ins in runtime].count("EXPOSE") == 1


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_entrypoint_is_fedloom_and_the_command_exists(path: Path) -> None:
    runtime = last_stage(parse(path))
    (entrypoint,) = [ins for ins in runtime if ins.keyword == "ENTRYPOINT"]
    (cmd,) = [ins for ins in runtime if ins.keyword == "CMD"]
    assert exec_form(entrypoint) == ["fedloom"]
    build_parser().parse_args(exec_form(cmd))  # SystemExit if the sub-command or a flag does not exist


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_install_steps_keep_the_image_small(path: Path) -> None:
    instructions = parse(path)
    for ins in instructions:
        assert ins.keyword != "ADD", "COPY, not ADD"
        if ins.keyword == "RUN" and "apt-get install" in ins.args:
            assert "--no-install-recommends" in ins.args and "rm -rf /var/lib/apt/lists" in ins.args
    (install,) = [ins.args for ins in instructions if ins.keyword == "RUN"]
    assert install.startswith(f"sh /src/services/{INSTALL_SCRIPT.name} ") and "download.pytorch.org/whl/" in install
    packages = [arg.strip('"').split("[")[0] for arg in install.split()[3:]]  # extras such as [privacy] allowed
    assert packages == ["/src/shared", f"/src/services/{path.parent.name}"], "the core and its own service"


def test_the_shared_install_script_pins_torch_and_caches_nothing() -> None:
    script = INSTALL_SCRIPT.read_text()
    assert script.startswith("#!/bin/sh") and "set -eu" in script
    installs = re.sub(r"\\\n\s*", "", script).count("pip install")
    assert installs == 2 and re.sub(r"\\\n\s*", "", script).count("--no-cache-dir") == 2
    assert "torch==2.14.1 torchvision==0.29.1" in script and '--index-url "$index_url"' in script


def test_generator_has_cpu_and_cuda_variants() -> None:
    instructions = parse(REPO / "services" / "generator" / "Dockerfile")
    assert any(ins.keyword == "ARG" and ins.args == "TORCH_VARIANT=cpu" for ins in instructions)
    assert any("whl/${TORCH_VARIANT}" in ins.args for ins in instructions if ins.keyword == "RUN")


def test_agent_image_is_cpu_only() -> None:
    text = (REPO / "services" / "client_agent" / "Dockerfile").read_text()
    assert "whl/cpu" in text and "TORCH_VARIANT" not in text


def test_dockerignore_lets_in_only_the_package() -> None:
    rules = [line for line in (REPO / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert rules[0] == "*", "ignore everything by default"
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    packages = {f"services/{name}/{pkg}" for name, pkg in SERVICE_PACKAGES.items()}
    projects = {f"services/{name}/pyproject.toml" for name in SERVICES} | {"shared/pyproject.toml"}
    assert allowed == {"shared/fedloom", "services/install-fedloom.sh"} | packages | projects
    copied = {
        source
        for path in DOCKERFILES
        for ins in parse(path)
        if ins.keyword == "COPY" and "--from" not in ins.args
        for source in shlex.split(ins.args)[:-1]
        if not source.startswith("--")
    }
    assert copied <= allowed, "every COPY source must pass the .dockerignore"


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_image_environment_is_settings_of_its_service(path: Path) -> None:
    runtime = last_stage(parse(path))
    (cmd,) = [ins for ins in runtime if ins.keyword == "CMD"]
    model = settings_model(exec_form(cmd))
    names = {pair.split("=")[0] for ins in runtime if ins.keyword == "ENV" for pair in shlex.split(ins.args)}
    fields = {f"FEDLOOM_{name.upper()}" for name in model.model_fields}
    fedloom = {name for name in names if name.startswith("FEDLOOM_")}
    assert fedloom <= fields, f"{fedloom - fields} are not fields of {model.__name__}"
    assert names - fedloom <= LIBRARY_VARIABLES | {"PATH", "HOME", "MPLCONFIGDIR", "PYTHONUNBUFFERED"}
