"""`.go.buildinfo`: the Go version, the build settings (GOEXPERIMENT, -ldflags, ...)
and module information the toolchain stamps into every binary since Go 1.18."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from godbg.errors import TargetError

if TYPE_CHECKING:
    from godbg.program.binary import GoBinary

MAGIC = b"\xff Go buildinf:"
HEADER_SIZE = 32
FLAG_INLINE_STRINGS = 0x2  # since Go 1.18 the strings follow the header, varint-prefixed

_VERSION_RE = re.compile(r"go(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class BuildInfo:
    version: str  # as stamped, e.g. "go1.24.11 X:noswissmap"
    main_path: str = ""
    settings: dict[str, str] = field(default_factory=dict)
    deps: tuple[str, ...] = ()

    @property
    def go_version(self) -> str:
        """The bare release, e.g. ``go1.24.11`` (experiments stripped)."""
        m = _VERSION_RE.match(self.version)
        return m.group(0) if m else self.version.split()[0]

    @property
    def version_tuple(self) -> tuple[int, int, int]:
        m = _VERSION_RE.match(self.version)
        if not m:
            return (0, 0, 0)
        return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))

    @property
    def goexperiments(self) -> list[str]:
        """Non-default experiments: from the GOEXPERIMENT build setting, else the
        ``X:`` suffix of the version string (``go1.24.0 X:noswissmap``, ``go1.26.0-X:foo``)."""
        setting = self.settings.get("GOEXPERIMENT")
        if setting:
            return [e for e in setting.split(",") if e]
        m = re.search(r"X:([\w,]+)", self.version)
        return [e for e in m.group(1).split(",") if e] if m else []

    @classmethod
    def from_binary(cls, binary: GoBinary) -> BuildInfo:
        raw = binary.section_bytes(".go.buildinfo")
        if raw is None:
            # Some linkers drop the section name; the data is still in a segment.
            idx = bytes(binary.data).find(MAGIC) if len(binary.data) < (256 << 20) else -1
            if idx < 0:
                raise TargetError(f"{binary.path}: no .go.buildinfo: not a Go binary, or Go older than 1.18")
            raw = memoryview(binary.data)[idx : idx + 64 * 1024]
        return cls.parse(bytes(raw[: 64 * 1024]))

    @classmethod
    def parse(cls, raw: bytes) -> BuildInfo:
        if not raw.startswith(MAGIC) or len(raw) < HEADER_SIZE:
            raise TargetError("no Go build info in this binary")
        flags = raw[15]
        if not flags & FLAG_INLINE_STRINGS:
            raise TargetError("Go build info predates Go 1.18: unsupported Go release")
        pos = HEADER_SIZE
        version, pos = _varint_string(raw, pos)
        modinfo, pos = _varint_string(raw, pos)
        return cls(version=version, **_parse_modinfo(modinfo))


def _varint_string(raw: bytes, pos: int) -> tuple[str, int]:
    n = shift = 0
    while pos < len(raw):
        b = raw[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    if pos + n > len(raw):
        raise TargetError("truncated Go build info")
    return raw[pos : pos + n].decode("utf-8", errors="replace"), pos + n


def _parse_modinfo(modinfo: str) -> dict[str, Any]:
    # Framed by 16-byte sentinels; the text between is "path\t...\nmod\t...\nbuild\tK=V\n...".
    if len(modinfo) >= 33 and modinfo[-17] == "\n":
        modinfo = modinfo[16:-16]
    main_path = ""
    settings: dict[str, str] = {}
    deps: list[str] = []
    for line in modinfo.splitlines():
        kind, _, rest = line.partition("\t")
        if kind == "path":
            main_path = rest
        elif kind == "build":
            key, _, value = rest.partition("=")
            settings[key] = value.strip('"')
        elif kind == "dep":
            deps.append(rest.replace("\t", " "))
    return {"main_path": main_path, "settings": settings, "deps": tuple(deps)}
