"""Lua run inside Redis where one step must see and change several keys atomically."""

from __future__ import annotations

from fedloom.stores.protocol import Guard, Notice, check_entry

# KEYS: guard hash, target hash[, notice stream]; ARGV: guard field, expected, field, value, maxlen ("" for
# none), then the notice's field/value pairs. Returns {stored (0/1), guard value (nil when absent)}.
GUARDED_HSETNX = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current ~= ARGV[2] then return {0, current} end
local stored = redis.call('HSETNX', KEYS[2], ARGV[3], ARGV[4])
if stored == 1 and KEYS[3] then
  local entry = {KEYS[3]}
  if ARGV[5] ~= '' then entry[#entry + 1] = 'MAXLEN'; entry[#entry + 1] = ARGV[5] end
  entry[#entry + 1] = '*'
  for i = 6, #ARGV do entry[#entry + 1] = ARGV[i] end
  redis.call('XADD', unpack(entry))
end
return {stored, current}
"""


# KEYS: key; ARGV: expected ("" + flag), value, ttl in ms ("" for none), then flags: expected absent, delete.
SWAP = """
local current = redis.call('GET', KEYS[1])
if ARGV[4] == '1' then
  if current then return 0 end
elseif current ~= ARGV[1] then
  return 0
end
if ARGV[5] == '1' then redis.call('DEL', KEYS[1]) return 1 end
if ARGV[3] ~= '' then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) else redis.call('SET', KEYS[1], ARGV[2]) end
return 1
"""


def swap_args(expected: bytes | None, value: bytes | None, ttl_ms: int | None) -> list[str | bytes]:
    """ARGV of SWAP."""
    flags = ["1" if expected is None else "0", "1" if value is None else "0"]
    return [expected or b"", value or b"", "" if ttl_ms is None else str(ttl_ms), *flags]


def guarded_hsetnx_call(
    key: str, field: str, value: bytes, guard: Guard, notice: Notice | None
) -> tuple[list[str], list[str | bytes]]:
    """KEYS and ARGV of GUARDED_HSETNX."""
    keys: list[str] = [guard.key, key]
    args: list[str | bytes] = [guard.field, guard.expected, field, value]
    if notice is not None:
        check_entry(notice.fields, notice.maxlen)
        keys.append(notice.stream)
        args.append("" if notice.maxlen is None else str(notice.maxlen))
        args.extend(item for pair in notice.fields.items() for item in pair)
    return keys, args
