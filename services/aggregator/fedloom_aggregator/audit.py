"""The audit log: one JSON line per admin action and per enrolment, refused ones included.

Lines go to the `fedloom.audit` logger and, when `FEDLOOM_AUDIT_LOG` names a file, are appended to it
(flushed per line, so a killed process loses nothing already answered). Secrets never appear: tokens
are named by the first 12 hex digits of their SHA-256 digest.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import IO, Any

from fedloom_aggregator.security import token_digest

log = logging.getLogger("fedloom.audit")


def token_ref(token: str) -> str:
    """A stable, non-secret name for a token in the log."""
    return token_digest(token)[:12]


class AuditLog:
    def __init__(self, path: Path | None = None) -> None:
        self.lock = threading.Lock()
        self.file: IO[str] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.file = path.open("a", encoding="utf-8")

    def record(self, action: str, actor: str, outcome: str, **fields: Any) -> None:
        line = json.dumps({"ts": round(time.time(), 6), "action": action, "actor": actor, "outcome": outcome, **fields})
        log.info(line)
        if self.file is not None:
            with self.lock:
                self.file.write(line + "\n")
                self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            with self.lock:
                self.file.close()
                self.file = None
