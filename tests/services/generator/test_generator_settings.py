"""Settings from the environment, startup errors, the Prometheus text format, and `serve()` in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import torch
from pydantic import ValidationError

import servers
from fedloom.errors import ConfigError
from fedloom.wire.routes import GENERATOR_INFO, HEALTHZ
from fedloom_generator import GeneratorSettings, get_settings
from fedloom_generator.metrics import Metrics
from fedloom_generator.settings import resolve_device
from fedloom_generator.stores import build_worker_stores


def test_settings_come_from_prefixed_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FEDLOOM_GENERATOR", "tiny")
    monkeypatch.setenv("FEDLOOM_DEVICE", "cpu")
    monkeypatch.setenv("FEDLOOM_MAX_BATCH_SIZE", "4")
    monkeypatch.setenv("FEDLOOM_ARTIFACT_DIR", str(tmp_path))
    monkeypatch.setenv("FEDLOOM_S3_SECRET_KEY", "hush")
    monkeypatch.delenv("FEDLOOM_REDIS_URL", raising=False)
    settings = get_settings()
    assert (settings.generator, settings.device, settings.max_batch_size) == ("tiny", "cpu", 4)
    assert settings.artifact_dir == tmp_path and not settings.worker_enabled
    assert "hush" not in repr(settings)


@pytest.mark.parametrize("field", [{"device": "tpu"}, {"max_batch_size": 0}, {"max_body_bytes": 10}])
def test_invalid_settings_are_refused(field: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        GeneratorSettings(**field)  # type: ignore[arg-type]


def test_devices_resolve() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA"):
            resolve_device("cuda:0")


def test_worker_needs_somewhere_to_write() -> None:
    assert build_worker_stores(GeneratorSettings(generator="tiny")) is None
    with pytest.raises(ConfigError, match="FEDLOOM_ARTIFACT_DIR"):
        build_worker_stores(GeneratorSettings(generator="tiny", redis_url="redis://127.0.0.1:1/0"))


def test_prometheus_text_format() -> None:
    metrics = Metrics()
    metrics.observe_request("/v1/images", "POST", 200, 0.02)
    metrics.observe_request("/v1/images", "POST", 200, 3.0)
    metrics.observe_request('/odd"route', "GET", 404, 0.001)
    metrics.count_images(7, "http")
    lines = metrics.render().splitlines()
    assert 'fedloom_generator_requests_total{route="/v1/images",method="POST",status="200"} 2' in lines
    assert 'fedloom_generator_requests_total{route="/odd\\"route",method="GET",status="404"} 1' in lines
    assert 'fedloom_generator_request_seconds_bucket{route="/v1/images",le="0.01"} 0' in lines
    assert 'fedloom_generator_request_seconds_bucket{route="/v1/images",le="0.025"} 1' in lines
    assert 'fedloom_generator_request_seconds_bucket{route="/v1/images",le="5"} 2' in lines
    assert 'fedloom_generator_request_seconds_bucket{route="/v1/images",le="+Inf"} 2' in lines
    assert 'fedloom_generator_request_seconds_sum{route="/v1/images"} 3.02' in lines
    assert 'fedloom_generator_request_seconds_count{route="/v1/images"} 2' in lines
    assert 'fedloom_generator_images_total{source="http"} 7' in lines
    assert "# TYPE fedloom_generator_jobs_total counter" in lines


def test_serve_runs_the_service_from_the_environment() -> None:
    port = servers.free_port()
    env = os.environ | {"FEDLOOM_GENERATOR": "tiny", "FEDLOOM_DEVICE": "cpu"}
    env.pop("FEDLOOM_REDIS_URL", None)
    code = f"from fedloom_generator import serve; serve('127.0.0.1', {port})"
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        info = _wait_for_info(f"http://127.0.0.1:{port}", proc)
        assert info["backend"] == "TinyGenerator" and info["resolution"] == 32
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=15)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status still says why it stopped
    assert proc.returncode in (0, -signal.SIGTERM), err.decode()[-2000:]
    assert "Finished server process" in err.decode()


def _wait_for_info(url: str, proc: subprocess.Popen[bytes]) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(url + HEALTHZ, timeout=1).status_code == 200:
                info: dict[str, object] = httpx.get(url + GENERATOR_INFO, timeout=5).json()
                return info
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"serve() did not come up (exit code {proc.poll()})")
