"""deploy/k8s: both overlays render with kustomize, pass offline schema validation, and follow the rules."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from deploy_files import LIBRARY_VARIABLES, WORKLOADS, by_kind, is_fedloom, k8s_plans, pod_spec, render

from fedloom.cli import build_parser

KUBERNETES_VERSION = "1.32.0"


@pytest.fixture(scope="module", params=["dev", "prod"])
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(request.param)


def containers(docs: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (kind, name, container)
        for kind in WORKLOADS
        for name, workload in by_kind(docs, kind).items()
        for container in pod_spec(workload)["containers"]
    ]


def test_manifests_pass_offline_schema_validation(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = rendered
    assert len(docs) >= 15
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validator_rejects_a_broken_manifest(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    broken = copy.deepcopy(by_kind(rendered[1], "Deployment")["fedloom-aggregator"])
    pod_spec(broken)["containers"][0]["livenessProbe"]["httpGet"]["pathh"] = "/healthz"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_every_container_has_probes_resources_and_runs_as_non_root(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = rendered
    for kind, name, container in containers(docs):
        where = f"{kind}/{name}/{container['name']}"
        limits, requests = container["resources"]["limits"], container["resources"]["requests"]
        assert {"cpu", "memory"} <= set(limits) and {"cpu", "memory"} <= set(requests), where
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] and not security["allowPrivilegeEscalation"], where
        assert security["capabilities"]["drop"] == ["ALL"], where
        pod_security = pod_spec(by_kind(docs, kind)[name])["securityContext"]
        assert pod_security["runAsNonRoot"] and pod_security["runAsUser"] >= 999, where
        if kind == "Job":
            continue  # a run-to-completion container: nothing to probe
        assert "livenessProbe" in container and "readinessProbe" in container, where
        if is_fedloom(container["image"]):
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", where
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", where


def test_redis_and_minio_keep_data_on_volume_claims(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    sets = by_kind(rendered[1], "StatefulSet")
    for name, path in (
        ("fedloom-redis", "/data"),
        ("fedloom-minio", "/data"),
        ("fedloom-agent", "/var/lib/fedloom/agent"),
    ):
        (claim,) = sets[name]["spec"]["volumeClaimTemplates"]
        mounts = {m["name"]: m["mountPath"] for m in pod_spec(sets[name])["containers"][0]["volumeMounts"]}
        assert mounts[claim["metadata"]["name"]] == path


def selects(policy: dict[str, Any], name: str) -> bool:
    return bool(policy["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name") == name)


def test_only_the_aggregator_reaches_redis_and_minio(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    policies = by_kind(rendered[1], "NetworkPolicy")
    deny = policies["fedloom-default-deny-ingress"]["spec"]
    assert deny["podSelector"] == {} and deny["policyTypes"] == ["Ingress"] and "ingress" not in deny
    for target in ("fedloom-redis", "fedloom-minio", "fedloom-generator"):
        selecting = [p["spec"] for p in policies.values() if selects(p, target)]
        (spec,) = selecting
        sources = [peer for rule in spec["ingress"] for peer in rule["from"]]
        assert sources == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "fedloom-aggregator"}}}], target


def test_services_select_their_workloads_and_budgets_exist(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    docs = rendered[1]
    workloads = by_kind(docs, "Deployment") | by_kind(docs, "StatefulSet")
    for name, service in by_kind(docs, "Service").items():
        labels = workloads[name]["spec"]["template"]["metadata"]["labels"]  # Service name == workload name
        assert service["spec"]["selector"].items() <= labels.items(), name
    protected = {
        b["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
        for b in by_kind(docs, "PodDisruptionBudget").values()
    }
    assert protected == {"fedloom-agent", "fedloom-generator", "fedloom-aggregator"}


def test_overlays_differ_where_they_should() -> None:
    dev, prod = render("dev"), render("prod")
    assert {d["metadata"].get("namespace") for d in dev if d["kind"] != "Namespace"} == {"fedloom-dev"}
    assert "fedloom-secrets" in by_kind(dev, "Secret") and not by_kind(prod, "Secret"), "prod brings its own Secret"
    assert "fedloom-launcher" in by_kind(dev, "Job") and not by_kind(prod, "Job")
    generator = by_kind(prod, "Deployment")["fedloom-generator"]
    (container,) = pod_spec(generator)["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert container["image"].startswith("fedloom/generator-cuda:")
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod_spec(generator)["tolerations"]
    assert generator["spec"]["replicas"] == 2
    aggregator = by_kind(prod, "Deployment")["fedloom-aggregator"]
    assert aggregator["spec"]["replicas"] == 2 and aggregator["spec"]["strategy"]["type"] == "RollingUpdate"
    (scaler,) = by_kind(prod, "HorizontalPodAutoscaler").values()
    assert scaler["spec"]["scaleTargetRef"]["name"] == "fedloom-aggregator" and scaler["spec"]["minReplicas"] >= 2
    assert scaler["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert not any("nvidia.com/gpu" in str(c) for _, _, c in containers(dev))


def test_every_environment_variable_is_a_setting(rendered: tuple[str, list[dict[str, Any]]], tmp_path: Path) -> None:
    _, docs = rendered
    if not by_kind(docs, "Secret"):  # prod: the operator's Secret; stand in a copy of the dev template
        docs = [*docs, by_kind(render("dev"), "Secret")["fedloom-secrets"]]
    plans = k8s_plans(docs, tmp_path)
    assert {p.argv[0] for p in plans} >= {"aggregator", "generator", "agent"}
    for kind, name, container in containers(docs):
        if not is_fedloom(container["image"]):
            continue
        model = next(p.settings_model for p in plans if p.host == name)
        fields = {f"FEDLOOM_{field.upper()}" for field in model.model_fields}
        names = {item["name"] for item in container.get("env", [])}
        names |= {key for plan in plans if plan.host == name for key in plan.env}
        expanded = " ".join(item.get("value", "") for item in container.get("env", []))
        helpers = {v for v in names - fields - LIBRARY_VARIABLES if f"$({v})" in expanded}
        assert names - fields - LIBRARY_VARIABLES - helpers == set(), f"{kind}/{name}: not settings of {model.__name__}"
        build_parser().parse_args(container["args"])
    for plan in plans:  # and the values are valid settings
        fields = {f"FEDLOOM_{field.upper()}" for field in plan.settings_model.model_fields}
        plan.settings_model(**{k.removeprefix("FEDLOOM_").lower(): v for k, v in plan.env.items() if k in fields})
