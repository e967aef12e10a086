"""`map`'s answer: a map's entries (decoded Go values, JSON by nature) and, with --stats,
its internal structure: classic buckets or swiss tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from godbg.results.base import JSON, Result, hex_or_none


@dataclass(frozen=True)
class TophashCounts(Result):
    """Cells of a classic map's buckets by their tophash."""

    empty: int  # emptyRest, emptyOne
    evacuated: int  # evacuatedX, evacuatedY, evacuatedEmpty
    full: int

    def to_json(self) -> JSON:
        return {"empty": self.empty, "evacuated": self.evacuated, "full": self.full}


@dataclass(frozen=True)
class ClassicStats(Result):
    """runtime.hmap and its buckets: size, overflow, growth (evacuation), flags."""

    b: int  # hmap.B: log2 of the bucket count ("B" in the JSON)
    buckets: int
    overflow_buckets: int  # found by walking the new buckets' chains
    noverflow: int  # the runtime's own (approximate) count
    load_factor: float
    growing: bool
    old_buckets: int
    old_overflow_buckets: int
    evacuated: int  # old buckets already moved
    nevacuate: int
    same_size_grow: bool
    writing: bool
    iterating: bool
    indirect_key: bool  # keys over 128 bytes sit behind a pointer
    indirect_elem: bool
    tophash: TophashCounts
    chain_lengths: tuple[tuple[int, int], ...]  # (buckets in a chain, how many chains), shortest first

    def to_json(self) -> JSON:
        return {
            "B": self.b, "buckets": self.buckets, "overflow_buckets": self.overflow_buckets,
            "noverflow": self.noverflow, "load_factor": self.load_factor, "growing": self.growing,
            "old_buckets": self.old_buckets, "old_overflow_buckets": self.old_overflow_buckets,
            "evacuated": self.evacuated, "nevacuate": self.nevacuate, "same_size_grow": self.same_size_grow,
            "writing": self.writing, "iterating": self.iterating, "indirect_key": self.indirect_key,
            "indirect_elem": self.indirect_elem, "tophash": self.tophash.to_json(),
            "chain_lengths": {str(length): n for length, n in self.chain_lengths},
        }


@dataclass(frozen=True)
class SwissTable(Result):
    """One table of a swiss map's directory."""

    address: int
    capacity: int
    used: int
    growth_left: int
    local_depth: int
    tombstones: int
    groups: int

    def to_json(self) -> JSON:
        return {"address": f"{self.address:#x}", "capacity": self.capacity, "used": self.used,
                "growth_left": self.growth_left, "local_depth": self.local_depth, "tombstones": self.tombstones,
                "groups": self.groups}


@dataclass(frozen=True)
class SwissStats(Result):
    """internal/runtime/maps.Map: its directory, tables, groups, tombstones and load."""

    small: bool  # one group, no directory
    dir_len: int
    global_depth: int
    tables: tuple[SwissTable, ...]  # each once, in directory order
    groups: int
    tombstones: int
    load_factor: float
    writing: bool
    indirect_key: bool  # keys over 128 bytes sit behind a pointer
    indirect_elem: bool
    split_group: bool  # GOEXPERIMENT=mapsplitgroup: ctrl, keys[8], elems[8]

    def to_json(self) -> JSON:
        return {
            "small": self.small, "dir_len": self.dir_len, "global_depth": self.global_depth,
            "tables": [t.to_json() for t in self.tables], "groups": self.groups, "tombstones": self.tombstones,
            "load_factor": self.load_factor, "writing": self.writing, "indirect_key": self.indirect_key,
            "indirect_elem": self.indirect_elem, "split_group": self.split_group,
        }


@dataclass(frozen=True)
class NilMapStats(Result):
    """The structure of a nil map: there is none."""

    def to_json(self) -> JSON:
        return {"nil": True}


MapStats = Union[ClassicStats, SwissStats, NilMapStats]


@dataclass(frozen=True)
class MapContents(Result):
    """A map's entries, up to the limit asked for; a nil map is an empty one at no address."""

    expr: str
    type: str  # "map[string]int"
    impl: str  # "classic" or "swiss"
    address: int | None  # the header (hmap or maps.Map); None for a nil map
    count: int  # the runtime's own length
    entries: tuple[tuple[Any, Any], ...]  # (key, value), each a decoded Go value (JSON)
    truncated: bool  # more entries than the limit
    stats: MapStats | None = None  # only when asked for

    def to_json(self) -> JSON:
        data: JSON = {
            "expr": self.expr, "type": self.type, "impl": self.impl, "address": hex_or_none(self.address),
            "count": self.count,
            # each (key, value) a list: to_json() holds JSON types only, as --json reads back
            "entries": [[k, v] for k, v in self.entries],
            "truncated": self.truncated,
        }
        if self.stats is not None:
            data["stats"] = self.stats.to_json()
        return data
