"""The built-in facts for stripped binaries: the shipped JSON's shape, layouts served as
DWARF layouts are, and finding a global from the code that uses it (synthetic code).
Whether the JSON matches fresh builds is tests/integration/test_stripped.py."""

from __future__ import annotations

import re
import struct
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from godbg.errors import UnsupportedError
from godbg.program.binary import Section
from godbg.runtime import globals_stripped as gs
from godbg.runtime import layouts_builtin as lb
from godbg.runtime.g import G_FIELDS
from godbg.runtime.layouts import layout
from godbg.runtime.m import M_FIELDS
from tests.integration.matrix import GO_VERSIONS

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
import gen_layouts  # noqa: E402

CORE_STRUCTS = ("runtime.g", "runtime.m", "runtime.gobuf", "runtime.stack", "runtime._panic", "runtime._defer",
                "runtime.funcval", "runtime.moduledata", "internal/abi.Type")
TEXT = 0x401000
DATA = 0x600000


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def test_every_release_of_the_matrix_is_there() -> None:
    doc = lb.tables()
    assert doc["format"] == lb.FORMAT and doc["goarch"] == "amd64"
    for v in GO_VERSIONS:
        rel = doc["releases"][_minor(v)]
        assert rel["toolchain"] == f"go{v}"
        assert rel["source"] == f"DWARF of go{v} linux/amd64 binary"
        for name in CORE_STRUCTS:
            assert name in rel["layouts"], (v, name)
        assert set(rel["globals"]) == set(gs.GLOBAL_NAMES), v
        assert all(entry["refs"] and entry["size"] and entry["section"] for entry in rel["globals"].values())
        assert rel["constants"]["runtime._Gwaiting"] == 4


def test_the_fields_the_decoders_read_are_recorded() -> None:
    for key, rel in lb.tables()["releases"].items():
        for struct_name, spec in (("runtime.g", G_FIELDS), ("runtime.m", M_FIELDS)):
            fields = rel["layouts"][struct_name]["fields"]
            for alias, (path, _fmt) in spec.items():
                if alias == "status":
                    assert path in fields or "atomicstatus" in fields
                else:  # FieldReader refuses a release without it
                    assert path in fields, (key, struct_name, path)


def test_json_is_compact_and_what_the_generator_writes() -> None:
    """Identical layouts are stored once and the file is exactly gen_layouts.dump's output."""
    import json

    text = lb.JSON_PATH.read_text()
    assert gen_layouts.dump(lb.tables()) == text
    shared = json.loads(text)["layouts"]
    assert len({json.dumps(v, sort_keys=True) for v in shared.values()}) == len(shared)
    assert text.count("\n") < 4000


def test_generator_covers_every_layout_the_code_asks_for() -> None:
    """A new `layout(target, "X")` in godbg/ must be added to gen_layouts.STRUCTS."""
    asked = set()
    for path in (REPO / "godbg").rglob("*.py"):
        text = path.read_text()
        asked |= set(re.findall(r'layout\(\s*\w+,\s*"([^"]+)"\)', text))
        for const in re.findall(r"layout\(\s*\w+,\s*([A-Z_]+)\)", text):
            asked |= set(re.findall(rf'^{const} = "([^"]+)"$', text, re.M))
    assert {"runtime.g", "runtime.m", "runtime.hmap", "internal/runtime/maps.Map"} <= asked
    missing = asked - set(gen_layouts.STRUCTS)
    assert not missing


def _target(version: str = "go1.22.10", goarch: str = "amd64", binary: object | None = None) -> SimpleNamespace:
    major, minor, patch = (int(p) for p in version[2:].split("."))
    b = binary or SimpleNamespace()
    b.buildinfo = SimpleNamespace(version_tuple=(major, minor, patch), go_version=version)
    b.has_dwarf = False
    b.path = "prog"
    return SimpleNamespace(binary=b, goarch=goarch, cache={})


def test_layouts_come_from_the_table_without_dwarf() -> None:
    t = _target("go1.24.3")
    lay = layout(t, "runtime.g")  # type: ignore[arg-type]
    want = lb.tables()["releases"]["1.24"]["layouts"]["runtime.g"]
    assert lay.size == want["size"] and lay.off("sched.sp") == want["fields"]["sched.sp"][0]
    assert lay.size_of("goid") == 8
    assert lb.builtin_layout(_target("go1.24.3", "arm64"), "runtime.g") is None  # type: ignore[arg-type]
    assert lb.builtin_layout(_target("go1.99.0"), "runtime.g") is None  # type: ignore[arg-type]
    with pytest.raises(UnsupportedError):
        layout(_target("go1.99.0"), "runtime.g")  # type: ignore[arg-type]


def test_builtin_constants() -> None:
    consts = lb.builtin_constants(_target("go1.27.3"), "runtime._G")  # type: ignore[arg-type]
    assert consts["runtime._Gdeadextra"] == 11 and consts["runtime._Gscan"] == 0x1000


# --- code references on synthetic code ------------------------------------------------------

# mov rax, [rip+disp32]: REX.W 8B /r with ModRM 0x05; then ret.
MOV_RIP = b"\x48\x8b\x05"
NOPS = b"\x90" * 24


class FakeBinary:
    """Functions laid out in one text blob, a .bss section, a pclntab by name."""

    def __init__(self, funcs: dict[str, bytes]) -> None:
        self.code = b""
        self.entries = {}
        for name, body in funcs.items():
            self.entries[name] = (TEXT + len(self.code), len(body))
            self.code += body
        self.sections = {".bss": Section(".bss", DATA, 0, 0x1000, False)}
        self.pclntab = SimpleNamespace(func_by_name=self._func)
        self.path = "prog"

    def _func(self, name: str) -> SimpleNamespace | None:
        if name not in self.entries:
            return None
        entry, size = self.entries[name]
        return SimpleNamespace(entry=entry, end=entry + size)

    def read_vaddr(self, address: int, size: int) -> bytes:
        return self.code[address - TEXT : address - TEXT + size]


def _body(func_pad: int, disp_target: int, entry: int, tail: bytes = b"\xc3") -> bytes:
    """NOPs, then `mov rax, [rip+X]` naming ``disp_target``, for a function at ``entry``."""
    disp_off = len(NOPS) + func_pad + len(MOV_RIP)
    disp = disp_target - (entry + disp_off + gs.DISP32)
    return NOPS + b"\x90" * func_pad + MOV_RIP + struct.pack("<i", disp) + tail + NOPS


def _ref(binary: FakeBinary, name: str, disp_off: int) -> dict:
    entry, size = binary.entries[name]
    start, pattern = gs.window(binary.read_vaddr(entry, size), disp_off)
    return {"func": name, "offset": disp_off, "adjust": 0, "window_start": start, "window": pattern}


def _two_funcs(target_a: int, target_b: int, pad_b: int = 0) -> FakeBinary:
    first = _body(0, target_a, TEXT)
    return FakeBinary({"runtime.a": first, "runtime.b": _body(pad_b, target_b, TEXT + len(first))})


def test_window_masks_relocated_bytes() -> None:
    code = b"\xe8\x01\x02\x03\x04" + MOV_RIP + b"\x10\x20\x30\x40\xc3"
    start, pattern = gs.window(code, 8)
    assert start == -8
    assert pattern == "e8" + "??" * 4 + "488b05" + "??" * 4 + "c3"


def test_agreeing_references_give_the_address() -> None:
    want = DATA + 0x40
    b = _two_funcs(want, want)
    disp_off = len(NOPS) + len(MOV_RIP)
    entry = {"size": 8, "section": ".bss", "refs": [_ref(b, "runtime.a", disp_off), _ref(b, "runtime.b", disp_off)]}
    assert gs.find(b, "runtime.allm", entry) == want  # type: ignore[arg-type]


def test_moved_code_is_found_by_its_window() -> None:
    want = DATA + 0x80
    recorded = _two_funcs(want, want)
    disp_off = len(NOPS) + len(MOV_RIP)
    refs = [_ref(recorded, "runtime.a", disp_off), _ref(recorded, "runtime.b", disp_off)]
    moved = _two_funcs(want, want, pad_b=3)  # runtime.b's instruction is 3 bytes later
    assert gs.locate(moved.read_vaddr(*moved.entries["runtime.b"]), refs[1]) == disp_off + 3
    assert gs.find(moved, "runtime.allm", {"size": 8, "section": ".bss", "refs": refs}) == want  # type: ignore[arg-type]


def test_disagreeing_or_implausible_references_are_refused() -> None:
    disp_off = len(NOPS) + len(MOV_RIP)
    b = _two_funcs(DATA + 0x10, DATA + 0x20)
    entry = {"size": 8, "section": ".bss", "refs": [_ref(b, "runtime.a", disp_off), _ref(b, "runtime.b", disp_off)]}
    with pytest.raises(UnsupportedError, match="2 different addresses"):
        gs.find(b, "runtime.allm", entry)  # type: ignore[arg-type]
    outside = _two_funcs(TEXT + 4, TEXT + 4)
    entry = {"size": 8, "section": ".bss",
             "refs": [_ref(outside, "runtime.a", disp_off), _ref(outside, "runtime.b", disp_off)]}
    with pytest.raises(UnsupportedError, match="not in .bss"):
        gs.find(outside, "runtime.allm", entry)  # type: ignore[arg-type]
    lonely = FakeBinary({"runtime.a": _body(0, DATA, TEXT)})
    entry = {"size": 8, "section": ".bss", "refs": [_ref(lonely, "runtime.a", disp_off),
                                                    dict(_ref(lonely, "runtime.a", disp_off), func="runtime.gone")]}
    with pytest.raises(UnsupportedError, match="only 1 of 2"):
        gs.find(lonely, "runtime.allm", entry)  # type: ignore[arg-type]
    changed = FakeBinary({"runtime.a": b"\x90" * 40})
    with pytest.raises(UnsupportedError, match="none of the 2"):
        gs.find(changed, "runtime.allm", entry)  # type: ignore[arg-type]


def test_an_ambiguous_window_matches_nothing() -> None:
    disp_off = len(NOPS) + len(MOV_RIP)
    b = FakeBinary({"runtime.a": _body(0, DATA, TEXT)})
    ref = _ref(b, "runtime.a", disp_off)
    twice = b.read_vaddr(*b.entries["runtime.a"])
    assert gs.locate(b"\xcc" + twice + twice, ref) is None


def test_stripped_symbol_for_an_unknown_release() -> None:
    b = FakeBinary({"runtime.racecall": b"\xc3" * 8})
    t = _target("go1.99.1", binary=b)
    with pytest.raises(UnsupportedError, match="go1.99"):
        gs.stripped_symbol(t, "runtime.allgs")  # type: ignore[arg-type]
    assert gs.stripped_symbol(t, "runtime.racecall") == (TEXT, 8)  # type: ignore[arg-type]
    assert gs.stripped_symbol(t, "main.nothing") is None  # type: ignore[arg-type]
