"""One stream with consumer groups for `MemoryStateStore` (not thread-safe: the store holds the lock).

Ids look like Redis ones ("<milliseconds>-<sequence>") and only grow. Each group remembers the last
id it handed out and, per pending (delivered, unacknowledged) id, the consumer that has it.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass, field

from fedloom.stores.protocol import StreamEntry

_Id = tuple[int, int]


def parse_id(entry_id: str) -> _Id:
    """'1700000000000-3' -> (1700000000000, 3); ValueError for anything else."""
    ms, sep, seq = entry_id.partition("-")
    if not (ms.isdigit() and (not sep or seq.isdigit())):
        raise ValueError(f"invalid stream entry id {entry_id!r}")
    return int(ms), int(seq or 0)


def _format_id(entry_id: _Id) -> str:
    return f"{entry_id[0]}-{entry_id[1]}"


@dataclass
class _Group:
    last_delivered: _Id = (0, 0)
    pending: dict[_Id, str] = field(default_factory=dict)  # entry id -> consumer


class MemoryStream:
    def __init__(self) -> None:
        self._ids: list[_Id] = []
        self._fields: dict[_Id, dict[str, bytes]] = {}
        self._last: _Id = (0, 0)
        self._groups: dict[str, _Group] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, fields: dict[str, bytes], maxlen: int | None) -> str:
        now_ms = int(time.time() * 1000)
        new_id = (now_ms, 0) if now_ms > self._last[0] else (self._last[0], self._last[1] + 1)
        self._ids.append(new_id)
        self._fields[new_id] = dict(fields)
        self._last = new_id
        if maxlen is not None and len(self._ids) > maxlen:
            excess = len(self._ids) - maxlen
            for old in self._ids[:excess]:
                del self._fields[old]
            del self._ids[:excess]
        return _format_id(new_id)

    def ensure_group(self, group: str) -> None:
        self._groups.setdefault(group, _Group())

    def read_pending(self, group: str, consumer: str, count: int) -> list[StreamEntry]:
        """This consumer's unacknowledged entries, oldest first; trimmed ones are dropped from pending."""
        state = self._groups[group]
        mine = sorted(entry_id for entry_id, owner in state.pending.items() if owner == consumer)
        out: list[StreamEntry] = []
        for entry_id in mine:
            if entry_id not in self._fields:
                del state.pending[entry_id]
            elif len(out) < count:
                out.append((_format_id(entry_id), dict(self._fields[entry_id])))
        return out

    def read_new(self, group: str, consumer: str, count: int) -> list[StreamEntry]:
        """Entries after the group's last delivered one; they become pending for this consumer."""
        state = self._groups[group]
        start = bisect.bisect_right(self._ids, state.last_delivered)
        fresh = self._ids[start : start + count]
        for entry_id in fresh:
            state.pending[entry_id] = consumer
        if fresh:
            state.last_delivered = fresh[-1]
        return [(_format_id(entry_id), dict(self._fields[entry_id])) for entry_id in fresh]

    def ack(self, group: str, ids: tuple[str, ...]) -> int:
        parsed = [parse_id(entry_id) for entry_id in ids]
        state = self._groups.get(group)
        if state is None:
            return 0
        return sum(1 for entry_id in set(parsed) if state.pending.pop(entry_id, None) is not None)
