"""pprof labels of a goroutine (``g.labels``, set by pprof.Do / SetGoroutineLabels).
It points to a ``runtime/pprof.labelMap``: a ``map[string]string`` up to Go 1.23, a
struct holding a sorted slice of {key, value string} pairs from 1.24 on."""

from __future__ import annotations

import struct

from godbg.errors import FaultError, GodbgError
from godbg.program.dwarf import MAP
from godbg.program.target import Target
from godbg.runtime.maps import read_map

LABEL_MAP = "runtime/pprof.labelMap"
# A label set larger than this is corrupt.
MAX_LABELS = 4096
# {key, value string}: two string headers.
LABEL_SIZE = 32


def labels_at(target: Target, ptr: int) -> dict[str, str]:
    """The labels a g.labels pointer names ({} for nil), memoized: goroutines started
    under one pprof.Do share one set."""
    if not ptr:
        return {}
    key = ("labels", ptr)
    found = target.cache.get(key)
    if found is None:
        try:
            found = _decode(target, ptr)
        except (FaultError, GodbgError) as e:
            target.warn(f"pprof labels at {ptr:#x} are unreadable: {e}")
            found = {}
        target.cache[key] = found
    return dict(found)


def _decode(target: Target, ptr: int) -> dict[str, str]:
    t = target.binary.dwarf.type_by_name(LABEL_MAP) if target.binary.has_dwarf else None
    if t is not None and t.kind == MAP:
        contents = read_map(target, target.memory.ptr(ptr), t, None)
        return {str(k): str(v) for k, v in contents.entries}
    data, length, cap = struct.unpack("<QQQ", target.memory.read(ptr, 24))
    if length > cap or length > MAX_LABELS:
        raise GodbgError(f"a label list of {length} entries (cap {cap})")
    raw = target.memory.read(data, length * LABEL_SIZE) if length else b""
    out: dict[str, str] = {}
    for i in range(length):
        kp, kl, vp, vl = struct.unpack_from("<QQQQ", raw, i * LABEL_SIZE)
        out[target.memory.string_at(kp, kl)] = target.memory.string_at(vp, vl)
    return out
