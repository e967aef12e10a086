"""Every testdata program's core, compressed as systemd-coredump (zstd), apport and
archives (xz, lz4) keep them, gives exactly the JSON of the plain core for `info`,
`goroutines` and `map`; a truncated compressed core is one line and exit 2.

Each core is compressed once (cached beside its fixture), and the commands run in this
process on one target per file, to keep the matrix's time small."""

from __future__ import annotations

import lzma
import os
from pathlib import Path

import pytest

from godbg.backends.core import compressed
from godbg.backends.core.corefile import open_core_target
from godbg.commands.execute import execute
from godbg.render.theme import PLAIN
from tests.integration import matrix
from tests.integration.cli import godbg

lz4_frame = pytest.importorskip("lz4.frame")
pyzstd = pytest.importorskip("pyzstd")

# program -> (crash arguments, the commands to compare)
PROGRAMS = {
    "basic": ([], [["info"], ["goroutines"], ["map", "main.table"]]),
    "maps": ([], [["info"], ["goroutines"], ["map", "main.structKV"], ["map", "main.nested"]]),
    "goroutines": ([], [["info"], ["goroutines"]]),
    "headroom": ([], [["info"], ["goroutines"]]),
    "panics": (["chain"], [["info"], ["goroutines"]]),
}
# Fast settings: the test is about reading the formats, not about their ratios.
# With checksums, as the zstd and lz4 tools write them by default.
CODECS = {
    "zst": lambda f, out: _stream(f, out, pyzstd.ZstdCompressor({pyzstd.CParameter.checksumFlag: 1})),
    "xz": lambda f, out: _stream(f, out, lzma.LZMACompressor(preset=0)),
    "lz4": lambda f, out: _stream(f, out, lz4_frame.LZ4FrameCompressor(content_checksum=True)),
}
CHUNK = 1 << 20


def _stream(src, out, comp) -> None:
    if hasattr(comp, "begin"):
        out.write(comp.begin())
    while chunk := src.read(CHUNK):
        out.write(comp.compress(chunk))
    out.write(comp.flush())


def compressed_copies(fx: matrix.Fixture) -> dict[str, Path]:
    """The fixture's core compressed with each codec, made once and cached beside it."""
    assert fx.core is not None
    out = fx.dir / "compressed"
    paths = {ext: out / f"core.{ext}" for ext in CODECS}
    if not all(p.exists() for p in paths.values()):
        with matrix._locked(out):
            out.mkdir(exist_ok=True)
            for ext, path in paths.items():
                if path.exists():
                    continue
                tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
                with open(fx.core, "rb") as src, open(tmp, "wb") as dst:
                    CODECS[ext](src, dst)
                os.rename(tmp, path)
    return paths


def answers(fx: matrix.Fixture, core: Path, commands: list[list[str]]) -> list[str]:
    target = open_core_target(str(fx.binary), str(core))
    return [execute(target, [*cmd, "--json"], PLAIN).stdout for cmd in commands]


@pytest.fixture(autouse=True)
def _own_copy_cache(tmp_path, monkeypatch):
    # Decompressed copies in the test's own directory, not in the user's cache.
    monkeypatch.setattr(compressed, "cache_root", lambda: str(tmp_path / "cores"))


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_compressed_core_same_json(build, program):
    args, commands = PROGRAMS[program]
    fx = matrix.crash(program, build, args=args)
    plain = answers(fx, fx.core, commands)
    for ext, path in compressed_copies(fx).items():
        assert answers(fx, path, commands) == plain, f"{program} core.{ext} differs from the plain core"


@pytest.mark.builds(lambda b: b.go == matrix.GO_VERSIONS[-1] and not b.stripped)
def test_truncated_compressed_core_is_one_line(build, tmp_path):
    fx = matrix.crash("basic", build)
    for ext, path in compressed_copies(fx).items():
        blob = path.read_bytes()
        cut = tmp_path / f"cut.{ext}"
        cut.write_bytes(blob[: len(blob) // 2])
        p = godbg("core", str(fx.binary), str(cut), "info",
                  env={**os.environ, "GODBG_CACHE": str(tmp_path / "cache")})
        assert p.returncode == 2 and p.stdout == ""
        assert p.stderr.count("\n") == 1 and "truncated" in p.stderr, p.stderr


@pytest.mark.delve
@pytest.mark.builds(lambda b: b.go == matrix.GO_VERSIONS[-1] and not b.goexperiment and not b.stripped)
def test_delve_reads_compressed_cores(build, tmp_path):
    fx = matrix.crash("basic", build)
    env = {**os.environ, "GODBG_CACHE": str(tmp_path / "cache")}
    plain = godbg("dlv", "core", str(fx.binary), str(fx.core), "info", "--json", env=env)
    assert plain.returncode == 0, plain.stderr
    for path in compressed_copies(fx).values():
        p = godbg("dlv", "core", str(fx.binary), str(path), "info", "--json", env=env)
        assert (p.returncode, p.stdout) == (0, plain.stdout), p.stderr
