"""The compose file's and the dev overlay's containers, run as local processes, complete a federation.

Each FedLoom service starts with exactly the command and environment its deployment file gives it
(see local_run.py for what a container runtime changes); a real redis-server (with the deployment's
password) and a moto S3 server stand in for the redis and minio images. The launcher runs 2 rounds of
the demo federation; the aggregator's log must show the accuracy of both rounds.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from deploy_files import ENV_EXAMPLE, compose_plans, k8s_plans, load_compose, read_env_file, render
from local_run import LocalDeployment, standin_stores

ROUNDS = 2
TIMEOUT = 600.0


def assert_rounds_logged(log: str) -> None:
    accuracies = re.findall(r"federation \w+ round (\d+) accuracy (\d\.\d{4})", log)
    assert [int(r) for r, _ in accuracies] == list(range(ROUNDS)), log[-3000:]
    assert all(0.0 <= float(a) <= 1.0 for _, a in accuracies)


def run(deployment: LocalDeployment, launcher_env: dict[str, str], redis_password: str) -> None:
    try:
        launcher, aggregator_log = deployment.run_to_end(launcher_env, TIMEOUT)
        assert launcher.process.returncode == 0, launcher.tail(40)
        assert "finished after 2 rounds" in launcher.tail(5), launcher.tail(40)
        assert_rounds_logged(aggregator_log)
        assert redis_password not in aggregator_log, "the Redis password leaked into the log"
    finally:
        deployment.stop()


def test_compose_services_run_a_federation(tmp_path: Path) -> None:
    variables = read_env_file(ENV_EXAMPLE) | {
        "FEDLOOM_ADMIN_TOKEN": secrets.token_urlsafe(24),
        "FEDLOOM_SHARED_ENROLLMENT_TOKEN": secrets.token_urlsafe(24),
        "REDIS_PASSWORD": secrets.token_urlsafe(12),
        "DEMO_ROUNDS": str(ROUNDS),
    }
    plans = compose_plans(load_compose(variables))
    with standin_stores("redis", "minio", variables["REDIS_PASSWORD"]) as stores:
        run(LocalDeployment(plans, tmp_path, stores.addresses), {}, variables["REDIS_PASSWORD"])


def test_dev_overlay_containers_run_a_federation(tmp_path: Path) -> None:
    docs = render("dev")
    plans = k8s_plans(docs, tmp_path / "configmaps")
    secret = next(d for d in docs if d["kind"] == "Secret")["stringData"]
    with standin_stores("fedloom-redis", "fedloom-minio", secret["REDIS_PASSWORD"]) as stores:
        deployment = LocalDeployment(plans, tmp_path, stores.addresses)
        run(deployment, {"FEDLOOM_ROUNDS": str(ROUNDS)}, secret["REDIS_PASSWORD"])
