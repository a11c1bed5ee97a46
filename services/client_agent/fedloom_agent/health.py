"""`/healthz` and `/readyz` for the agent (container probes): a tiny HTTP server in a background thread.

`/healthz` answers 200 while the process serves; `/readyz` answers 200 once the agent holds credentials
(enrolled or resumed) and 503 before. Nothing else is served; the agent itself only makes requests.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fedloom.wire.routes import HEALTHZ, READYZ

log = logging.getLogger("fedloom.agent")


def _handler(ready: Callable[[], bool]) -> type[BaseHTTPRequestHandler]:
    class ProbeHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
            checks = {HEALTHZ: True, READYZ: ready()}
            path = self.path.split("?")[0]
            if path not in checks:
                return self.answer(404, {"detail": f"no route {path}; try {HEALTHZ} or {READYZ}"})
            return self.answer(200 if checks[path] else 503, {"status": "ok" if checks[path] else "starting"})

        def answer(self, status: int, body: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (probes every few seconds: quiet)
            return

    return ProbeHandler


@contextmanager
def probe_server(host: str, port: int | None, ready: Callable[[], bool]) -> Iterator[int | None]:
    """Serve the probes on host:port while the block runs (nothing when `port` is None); yields the port."""
    if port is None:
        yield None
        return
    server = ThreadingHTTPServer((host, port), _handler(ready))
    thread = threading.Thread(target=server.serve_forever, name="agent-probes", daemon=True)
    thread.start()
    log.info("probes on http://%s:%d%s and %s", host, server.server_address[1], HEALTHZ, READYZ)
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
