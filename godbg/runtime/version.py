"""Which Go is this: release, experiments, map implementation. Probed from the binary
(build info, DWARF types, function names), not guessed from the version number alone."""

from __future__ import annotations

from dataclasses import dataclass

from godbg.errors import UnsupportedError
from godbg.program.target import Target

# The releases godbg is tested with: the oldest and newest of tests/integration/matrix.py's
# GO_VERSIONS (a unit test keeps them in step; docs/dev/new-go-release.md).
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


def gate(target: Target) -> GoRelease:
    """The one version gate, passed the same way by every command (commands/execute.py) and
    by the Python API. A release older than the oldest tested is refused: its runtime
    differs in ways godbg does not read. A newer one is read all the same, with one warning
    that names it: layouts come from DWARF by field name, and a field that is gone is an
    error, never a silent zero."""
    rel = release(target)
    lo = "go{}.{}".format(*SUPPORTED_MIN)
    hi = "go{}.{}".format(*SUPPORTED_MAX)
    if rel.key < SUPPORTED_MIN:
        raise UnsupportedError(f"{rel.version or 'an unknown Go release'} is not supported "
                               f"(godbg supports {lo} through {hi})")
    if rel.key > SUPPORTED_MAX:
        target.warn(f"{rel.version} is newer than {hi}, the newest Go release godbg is tested with: "
                    f"answers may be incomplete or wrong")
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
