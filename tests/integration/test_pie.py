"""Position-independent executables (`-buildmode=pie`): godbg applies the load bias and
answers as it does for the fixed-address build of the same program; a core read with
the wrong binary or at the wrong load offset ends with one line and exit 2.

Truth comes from Go: the bias is checked against the pc Go's own traceback printed for
main.main (run-time) and the symbol's value in the ELF file (link-time); the other
commands' answers against the fixed-address build's (the per-command comparisons with
Go's traceback run on PIE builds too: `@pytest.mark.pie` in test_goroutines.py and
friends)."""

from __future__ import annotations

import re
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest
from elftools.elf.elffile import ELFFile

from tests.integration import matrix
from tests.integration.cli import godbg_core, godbg_json

pytestmark = pytest.mark.builds(lambda b: not b.goexperiment)

PROGRAM = "basic"
MAP = "main.table"
PAGE = 4096
NT_AUXV = 6
AT_ENTRY = 9
UNUSED_AUXV_KEY = 0x7FFF
# Values that differ between two runs of the same program, PIE or not.
RUN_DEPENDENT = {"crash_thread", "load_bias", "ms", "thread", "m", "waiting_since_ns", "stack", "id",
                 "goroutine", "pc", "sp", "lo", "hi", "size", "used", "guard_headroom"}
_HEX = re.compile(r"0x[0-9a-f]+")


@pytest.fixture
def pair(build: matrix.Build, core_kind: str) -> tuple[matrix.Fixture, matrix.Fixture]:
    """The fixed-address and the PIE build of the program, each crashed."""
    return (matrix.crash(PROGRAM, build, core_kind=core_kind),
            matrix.crash(PROGRAM, build.variant(pie=True), core_kind=core_kind))


def link_address(binary: Path, name: str) -> int:
    with open(binary, "rb") as f:
        tab = ELFFile(f).get_section_by_name(".symtab")
        syms = tab.get_symbol_by_name(name)
        assert syms, f"{name} not in {binary}"
        return int(syms[0]["st_value"])


def go_bias(fx: matrix.Fixture) -> int:
    """The bias from Go's own account: main.main's pc and offset in the traceback of
    goroutine 1, against the symbol's link-time value."""
    frame = next(f for f in fx.traceback.goroutine(1).frames if f.function == "main.main")
    assert frame.pc is not None and frame.offset is not None
    return frame.pc - frame.offset - link_address(fx.binary, "main.main")


def normalised(doc: Any) -> Any:
    """The document with what differs between two runs left out: thread and goroutine
    ids, addresses, stack sizes, the source tree's location."""
    if isinstance(doc, dict):
        return {k: normalised(v) for k, v in doc.items() if k not in RUN_DEPENDENT}
    if isinstance(doc, list):
        return [normalised(v) for v in doc]
    if isinstance(doc, str):
        doc = _HEX.sub("0x…", doc)
        doc = re.sub(r"\bgoroutine \d+", "goroutine N", doc)  # a wait object on a goroutine's stack
        i = doc.find("/testdata/")
        return doc[i:] if i >= 0 else doc
    return doc


def goroutine_multiset(doc: dict[str, Any]) -> list[str]:
    return sorted(repr(normalised(g)) for g in doc["goroutines"])


@pytest.mark.core_kinds("kernel", "gcore")
def test_load_bias_is_gos(pair: tuple[matrix.Fixture, matrix.Fixture]) -> None:
    fixed, pie = pair
    assert godbg_json(fixed, "info")["load_bias"] == 0
    bias = godbg_json(pie, "info")["load_bias"]
    assert bias == go_bias(pie) and bias != 0 and bias % PAGE == 0


@pytest.mark.core_kinds("kernel", "gcore")
def test_answers_equal_the_fixed_address_build(pair: tuple[matrix.Fixture, matrix.Fixture]) -> None:
    fixed, pie = pair
    for argv in (["info"], ["map", MAP, "--stats"], ["panic"], ["bt", "1"]):
        assert normalised(godbg_json(pie, *argv)) == normalised(godbg_json(fixed, *argv)), argv
    assert goroutine_multiset(godbg_json(pie, "goroutines")) == goroutine_multiset(godbg_json(fixed, "goroutines"))
    # and Go's own traceback of the PIE run: the same goroutines, the crash at the same place
    doc = godbg_json(pie, "goroutines")
    assert sorted(g["id"] for g in doc["goroutines"]) == sorted(pie.traceback.ids)
    frames = godbg_json(pie, "bt", "1")["frames"]
    go_main = next(f for f in pie.traceback.goroutine(1).frames if f.function == "main.main")
    ours = next(f for f in frames if f["function"] == "main.main")
    assert (int(ours["pc"], 16), ours["line"]) == (go_main.pc, go_main.line)


# ------------------------------------------------------------------ refusals


def _one_line_refusal(fx_binary: Path, core: Path, *needles: str) -> str:
    p = godbg_core(_Fx(fx_binary, core), "info")
    assert p.returncode == 2 and p.stdout == "", p.stdout
    assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr, p.stderr
    for n in needles:
        assert n in p.stderr, p.stderr
    return p.stderr


class _Fx:
    """What godbg_core needs of a fixture: a binary and a core."""

    def __init__(self, binary: Path, core: Path) -> None:
        self.binary, self.core = binary, core


def _auxv_entry_offset(core: Path) -> int:
    """File offset of AT_ENTRY's value in the core's NT_AUXV note."""
    data = core.read_bytes()
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    for i in range(phnum):
        p_type, _f, off, _v, _p, filesz, _m, _a = struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize)
        if p_type != 4:  # PT_NOTE
            continue
        pos = off
        while pos + 12 <= off + filesz:
            namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
            desc = pos + 12 + ((namesz + 3) & ~3)
            if ntype == NT_AUXV:
                for j in range(0, descsz, 16):
                    key, = struct.unpack_from("<Q", data, desc + j)
                    if key == AT_ENTRY:
                        return desc + j + 8
            pos = desc + ((descsz + 3) & ~3)
    raise AssertionError(f"{core} has no AT_ENTRY")


def _patched_core(src: Path, tmp: Path, shift: int = 0, drop_entry: bool = False) -> Path:
    """A copy of ``src`` whose AT_ENTRY is ``shift`` bytes further, or gone (its key
    changed to one nobody reads)."""
    out = tmp / "core"
    shutil.copyfile(src, out)
    at = _auxv_entry_offset(out)
    with open(out, "r+b") as f:
        if drop_entry:
            f.seek(at - 8)
            f.write(struct.pack("<Q", UNUSED_AUXV_KEY))
            return out
        f.seek(at)
        entry, = struct.unpack("<Q", f.read(8))
        f.seek(at)
        f.write(struct.pack("<Q", entry + shift))
    return out


@pytest.mark.core_kinds("kernel", "gcore")
def test_bias_from_file_mappings_without_auxv(pair: tuple[matrix.Fixture, matrix.Fixture], tmp_path: Path) -> None:
    _fixed, pie = pair
    assert pie.core is not None
    fx = _Fx(pie.binary, _patched_core(pie.core, tmp_path, drop_entry=True))
    assert godbg_json(fx, "info")["load_bias"] == go_bias(pie)  # type: ignore[arg-type]


@pytest.mark.core_kinds("kernel")
def test_wrong_load_offset_is_refused(pair: tuple[matrix.Fixture, matrix.Fixture], tmp_path: Path) -> None:
    _fixed, pie = pair
    assert pie.core is not None
    # A page-aligned offset that is not the real one: memory disagrees with the binary.
    _one_line_refusal(pie.binary, _patched_core(pie.core, tmp_path, 16 * PAGE),
                      "does not match", "load offset")
    # One that is not page-aligned cannot be a load offset at all.
    _one_line_refusal(pie.binary, _patched_core(pie.core, tmp_path, 0x10), "wrong binary")


@pytest.mark.core_kinds("kernel", "gcore")
def test_cores_and_binaries_crossed_are_refused(pair: tuple[matrix.Fixture, matrix.Fixture]) -> None:
    fixed, pie = pair
    assert fixed.core is not None and pie.core is not None
    _one_line_refusal(fixed.binary, pie.core, "wrong binary")
    _one_line_refusal(pie.binary, fixed.core, "wrong binary")
