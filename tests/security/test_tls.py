"""TLS: both services, started as real processes by the CLI, serve HTTPS with a self-signed certificate."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from security_helpers import ADMIN, self_signed_certificate

from fedloom.errors import ConfigError
from fedloom.serving.tls import tls_files
from servers import free_port, stop

STARTUP_SECONDS = 60.0


def start_service(args: list[str], env: dict[str, str], port: int, context: ssl.SSLContext) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "fedloom.cli", *args, "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"https://127.0.0.1:{port}/healthz", verify=context, timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    stop(proc)
    raise AssertionError(f"{args} did not serve HTTPS: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["aggregator"], {"FEDLOOM_ADMIN_TOKEN": ADMIN}),
        (["generator", "serve"], {"FEDLOOM_GENERATOR": "tiny", "FEDLOOM_DEVICE": "cpu"}),
    ],
    ids=["aggregator", "generator"],
)
def test_service_serves_https_with_certificate_and_key_settings(
    tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    cert, key = self_signed_certificate(tmp_path)
    trusted = ssl.create_default_context(cafile=str(cert))
    env = env | {
        "FEDLOOM_TLS_CERTFILE": str(cert),
        "FEDLOOM_TLS_KEYFILE": str(key),
        "FEDLOOM_ARTIFACT_DIR": str(tmp_path / "artifacts"),
    }
    port = free_port()
    proc = start_service(args, env, port, trusted)
    try:
        answer = httpx.get(f"https://127.0.0.1:{port}/healthz", verify=trusted)
        assert answer.status_code == 200 and answer.http_version == "HTTP/1.1"
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"https://127.0.0.1:{port}/healthz", verify=ssl.create_default_context())
        with pytest.raises(httpx.HTTPError):  # plain HTTP is not answered on the TLS port
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    finally:
        stop(proc)


def test_tls_settings_need_both_files_and_existing_ones(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    assert tls_files(cert, key) == (cert, key) and tls_files(None, None) == (None, None)
    with pytest.raises(ConfigError, match="both a certificate and a key"):
        tls_files(cert, None)
    with pytest.raises(ConfigError, match="does not exist"):
        tls_files(cert, tmp_path / "missing.pem")
