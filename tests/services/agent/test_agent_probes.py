"""The agent's /healthz and /readyz (what compose health checks and Kubernetes probes call)."""

import threading

import httpx

from fedloom_agent.health import probe_server


def test_healthz_always_readyz_once_ready() -> None:
    ready = threading.Event()
    with probe_server("127.0.0.1", 0, ready.is_set) as port:
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/healthz").status_code == 200
        starting = httpx.get(f"{base}/readyz")
        assert starting.status_code == 503 and starting.json() == {"status": "starting"}
        ready.set()
        assert httpx.get(f"{base}/readyz?verbose=1").json() == {"status": "ok"}
        unknown = httpx.get(f"{base}/v1/clients")
        assert unknown.status_code == 404 and "/healthz" in unknown.json()["detail"]
    try:
        httpx.get(f"{base}/healthz", timeout=1)
        raise AssertionError("the probe server still answers after the block")
    except httpx.TransportError:
        pass


def test_no_port_no_server() -> None:
    with probe_server("127.0.0.1", None, lambda: True) as port:
        assert port is None
