"""The round loops one aggregator replica runs: a thread per federation whose lease this replica holds, and a
watch that takes over running federations whose lease has lapsed (see leases.py)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from fedloom.stores.errors import StoreUnavailable
from fedloom.stores.protocol import StateStore
from fedloom_aggregator.leases import Lease, LeaseKeeper

log = logging.getLogger("fedloom.aggregator")


class RoundLoops:
    def __init__(
        self,
        store: StateStore,
        replica: str,
        lease_seconds: float,
        run: Callable[[str, Lease], None],
        running: Callable[[], list[str]],
    ) -> None:
        """`run(fid, lease)`: one federation's loop; `running()`: the federations whose status is running."""
        self.store, self.replica, self.lease_seconds = store, replica, lease_seconds
        self.run, self.running = run, running
        self.threads: dict[str, threading.Thread] = {}
        self.leases: dict[str, Lease] = {}
        self.stopped = threading.Event()
        self.lock = threading.Lock()

    def active(self, fid: str) -> bool:
        thread = self.threads.get(fid)
        return thread is not None and thread.is_alive()

    def claim(self, fid: str) -> bool:
        """Take the federation's lease if it is free and run its loop here; False if another replica holds it."""
        with self.lock:
            if self.stopped.is_set() or self.active(fid):
                return False
            lease = Lease(self.store, fid, self.replica, self.lease_seconds)
            if not lease.acquire():
                return False
            log.info("federation %s: replica %s holds its lease and runs its round loop", fid, self.replica)
            thread = threading.Thread(target=self.hold, args=(fid, lease), name=f"federation-{fid}", daemon=True)
            self.threads[fid], self.leases[fid] = thread, lease
            thread.start()
            return True

    def hold(self, fid: str, lease: Lease) -> None:
        keeper = LeaseKeeper(lease).start()
        try:
            self.run(fid, lease)
        finally:
            keeper.stop()
            if not lease.lost.is_set():
                lease.release()

    def claim_orphans(self) -> list[str]:
        """Every running federation whose lease is free (a previous process left it, or its holder died)."""
        return [fid for fid in self.running() if not self.active(fid) and self.claim(fid)]

    def watch(self) -> None:
        while not self.stopped.wait(self.lease_seconds / 3):
            try:
                self.claim_orphans()
            except StoreUnavailable as exc:
                log.warning("lease watch: %s", exc)
            except Exception:
                log.exception("lease watch failed; trying again")

    def start_watch(self) -> None:
        threading.Thread(target=self.watch, name="lease-watch", daemon=True).start()

    def close(self) -> None:
        """Stop taking federations and hand the held leases back, so another replica takes over at once."""
        with self.lock:
            self.stopped.set()
        for lease in self.leases.values():
            lease.lost.set()  # the loops here write nothing more
            lease.release()
