"""Which Go is this: release, experiments, map implementation. Probed from the binary
(build info, DWARF types, function names), not guessed from the version number alone."""

from __future__ import annotations

from dataclasses import dataclass

from godbg.errors import UnsupportedError
from godbg.target.target import Target

SUPPORTED_MIN = (1, 22)
SUPPORTED_MAX = (1, 27)

MAP_CLASSIC = "classic"
MAP_SWISS = "swiss"

# Functions that exist only in one map implementation (linked into every Go program,
# since the runtime itself uses maps). Classic: runtime/map.go (map_noswiss.go in
# 1.24-1.25). Swiss: internal/runtime/maps (Go 1.24+).
_CLASSIC_MARKERS = ("runtime.evacuate", "runtime.hashGrow", "runtime.growWork")
_SWISS_PREFIX = "internal/runtime/maps.(*table)."
_SWISS_TYPE = "internal/runtime/maps.Map"
_CLASSIC_TYPE = "runtime.hmap"


@dataclass(frozen=True)
class GoRelease:
    text: str  # as stamped, with experiments: "go1.24.11 X:noswissmap"
    version: str  # "go1.24.11"
    major: int
    minor: int
    patch: int
    experiments: tuple[str, ...]

    @property
    def key(self) -> tuple[int, int]:
        return (self.major, self.minor)

    def at_least(self, major: int, minor: int) -> bool:
        return (self.major, self.minor) >= (major, minor)


def release(target: Target) -> GoRelease:
    def compute() -> GoRelease:
        bi = target.binary.buildinfo
        major, minor, patch = bi.version_tuple
        return GoRelease(bi.version, bi.go_version, major, minor, patch, tuple(bi.goexperiments))

    return target.memo("go_release", compute)


def check_supported(target: Target) -> GoRelease:
    rel = release(target)
    if not SUPPORTED_MIN <= rel.key <= SUPPORTED_MAX:
        lo = "go{}.{}".format(*SUPPORTED_MIN)
        hi = "go{}.{}".format(*SUPPORTED_MAX)
        raise UnsupportedError(f"{rel.version} is not supported (godbg supports {lo} through {hi})")
    return rel


def function_names(target: Target) -> set[str]:
    def compute() -> set[str]:
        names = {s.name for s in target.binary.symbols.values() if s.kind == "func"}
        if not names:
            names = set(target.binary.pclntab.function_names())
        return names

    return target.memo("function_names", compute)


def map_impl(target: Target) -> str:
    def compute() -> str:
        if target.binary.has_dwarf:
            dwarf = target.binary.dwarf
            # Classic first: a noswissmap build may still carry the swiss package's types.
            if dwarf.type_by_name(_CLASSIC_TYPE) is not None:
                return MAP_CLASSIC
            if dwarf.type_by_name(_SWISS_TYPE) is not None:
                return MAP_SWISS
        names = function_names(target)
        if any(m in names for m in _CLASSIC_MARKERS):
            return MAP_CLASSIC
        if any(n.startswith(_SWISS_PREFIX) for n in names):
            return MAP_SWISS
        rel = release(target)
        if rel.at_least(1, 24) and "noswissmap" not in rel.experiments:
            return MAP_SWISS
        return MAP_CLASSIC

    return target.memo("map_impl", compute)
