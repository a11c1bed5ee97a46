"""Algorithms by name. Each name maps to the package that exposes its `SPEC`."""

from __future__ import annotations

import importlib
from typing import Any

from fedloom.algorithms.base import AlgorithmConfig, AlgorithmSpec
from fedloom.errors import ConfigError

_PACKAGES = {
    "local": "fedloom.algorithms.local",
    "fedproto": "fedloom.algorithms.fedproto",
    "fedtgp": "fedloom.algorithms.fedtgp",
    "fedktl": "fedloom.algorithms.fedktl",
    "fml": "fedloom.algorithms.fml",
    "fedkd": "fedloom.algorithms.fedkd",
    "fedmrl": "fedloom.algorithms.fedmrl",
    "fd": "fedloom.algorithms.fd",
    "lg": "fedloom.algorithms.lg",
    "fedgh": "fedloom.algorithms.fedgh",
    "fedgen": "fedloom.algorithms.fedgen",
    "fedl2g": "fedloom.algorithms.fedl2g",
    "fedavg": "fedloom.algorithms.fedavg",
    "fedper": "fedloom.algorithms.fedper",
    "fedrep": "fedloom.algorithms.fedrep",
    "fedbabu": "fedloom.algorithms.fedbabu",
    "ditto": "fedloom.algorithms.ditto",
    "fedala": "fedloom.algorithms.fedala",
    "feddbe": "fedloom.algorithms.feddbe",
    "gpfl": "fedloom.algorithms.gpfl",
    "fedcp": "fedloom.algorithms.fedcp",
}


def algorithm_names() -> list[str]:
    return sorted(_PACKAGES)


def get_algorithm(name: str) -> AlgorithmSpec[Any]:
    """The spec registered under `name`, or a ConfigError listing the known names."""
    if name not in _PACKAGES:
        raise ConfigError(f"unknown algorithm {name!r}; choose one of {', '.join(algorithm_names())}")
    spec: AlgorithmSpec[Any] = importlib.import_module(_PACKAGES[name]).SPEC
    return spec


def make_config(spec: AlgorithmSpec[Any], options: dict[str, Any]) -> AlgorithmConfig:
    """Validate algorithm options into its frozen config; unknown options are an error."""
    try:
        return spec.config_type.model_validate(options)
    except Exception as exc:
        raise ConfigError(f"invalid options for {spec.name}: {exc}") from exc
