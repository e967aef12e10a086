"""The DWARF reader on real Go binaries, checked against Go itself.

testdata/values is built with a few toolchains (DWARF 4 and 5, classic and swiss maps,
the .go.type section of 1.27); run, it prints its own struct sizes and field offsets
(unsafe.Sizeof/Offsetof), constants and global values. Its globals are initialised
statically, so the test decodes them straight from the binary's data segments.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from godbg.errors import CorruptError, GodbgError, UnsupportedError
from godbg.program import dwarf as dw
from godbg.program import dwarfraw as raw
from godbg.program.binary import GoBinary
from godbg.program.dwarf import DwarfInfo
from godbg.program.memory import Memory
from godbg.values import ValueDecoder

REPO = Path(__file__).resolve().parents[2]
PROGRAM = REPO / "testdata" / "values"
# DWARF 4 + classic maps; DWARF 4 + swiss maps; DWARF 5; types in .go.type.
VERSIONS = ["1.22.10", "1.24.11", "1.25.5", "1.27.3"]
BUILD_TIMEOUT = 600


def _godbg_cache() -> Path:
    return Path(os.environ.get("GODBG_CACHE") or Path.home() / ".cache" / "godbg").expanduser()


def _toolchains() -> list[tuple[str, Path]]:
    base = _godbg_cache() / "go"
    found = [(v, base / v / "bin" / "go") for v in VERSIONS if (base / v / "bin" / "go").exists()]
    if not found:
        for cand in (shutil.which("go"), "/usr/local/go/bin/go"):
            if cand and Path(cand).exists():
                return [("system", Path(cand))]
    return found


TOOLCHAINS = _toolchains()


def _go_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GO") or k in ("GOPATH", "GOMODCACHE")}
    env.update(GOTOOLCHAIN="local", GOFLAGS="-mod=mod", CGO_ENABLED="0", GO111MODULE="on", GOPROXY="off")
    shared = _godbg_cache() / "go-build"
    if shared.is_dir():
        env["GOCACHE"] = str(shared)
    return env


def go_build(go: Path, out: Path, *flags: str) -> Path:
    res = subprocess.run([str(go), "build", *flags, "-o", str(out), "."], cwd=PROGRAM, env=_go_env(),
                         capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    assert res.returncode == 0, f"{go} build failed:\n{res.stderr}"
    return out


@dataclass
class Built:
    version: str
    path: Path
    truth: dict[str, Any]
    binary: GoBinary
    dwarf: DwarfInfo

    @property
    def swiss(self) -> bool:
        return self.dwarf.type_by_name("internal/runtime/maps.Map") is not None


def _skip_without_go() -> None:
    if not TOOLCHAINS:
        if os.environ.get("CI"):
            pytest.fail("no Go toolchain found: CI installs them (scripts/setup.sh)")
        pytest.skip("no Go toolchain found (looked in $GODBG_CACHE/go/<version>/bin/go, PATH, /usr/local/go)")


@pytest.fixture(scope="module", params=TOOLCHAINS or [None], ids=lambda t: t[0] if t else "no-go")
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Built:
    _skip_without_go()
    version, go = request.param
    out = go_build(go, tmp_path_factory.mktemp(f"values-{version}") / "values")
    run = subprocess.run([str(out)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    binary = GoBinary(str(out))
    return Built(version, out, json.loads(run.stdout), binary, DwarfInfo.from_binary(binary, use_cache=False))


class BinaryMemory:
    """The binary's own data segments as memory: statically initialised globals."""

    def __init__(self, binary: GoBinary) -> None:
        self.binary = binary

    def read(self, address: int, size: int) -> bytes:
        return self.binary.read_vaddr(address, size)


# --- layouts, constants, globals ------------------------------------------------------------


def test_struct_layouts_match_go(built: Built) -> None:
    for name, lay in built.truth["layouts"].items():
        t = built.dwarf.struct(name)
        assert t.size == lay["size"], name
        for path, off in lay["offsets"].items():
            assert t.offset_of(path) == off, f"{name}.{path}"
    t = built.dwarf.struct("main.T")
    names = [f.name for f in t.fields]
    assert names[:4] == ["Base", "Name", "In", "Arr"] and names[-1] == "Tail"  # declaration order
    assert t.field("Base").embedded and not t.field("Name").embedded
    assert t.field("ID").offset == t.offset_of("Base.ID")  # promoted through the embedded Base


def test_constants(built: Built) -> None:
    for name, value in built.truth["constants"].items():
        assert built.dwarf.constant(name) == value, name
    # runtime/runtime2.go: _Grunning = 2, _Gscan = 0x1000 (1.22-1.27).
    assert built.dwarf.constant("runtime._Grunning") == 2
    assert built.dwarf.constant("runtime._Gscan") == 0x1000
    assert built.dwarf.constant("runtime.noSuchConstant") is None
    assert built.dwarf.constants("runtime._G")["runtime._Gwaiting"] == 4


def test_globals(built: Built) -> None:
    d = built.dwarf
    for name, tname in [("main.gT", "main.T"), ("main.cache", "map[string]int"), ("main.gE", "interface {}"),
                        ("main.gErr", "error"), ("main.gP", "*main.Inner"), ("runtime.allgs", "[]*runtime.g")]:
        v = d.variable(name)
        assert v is not None, name
        assert v.type is not None and v.type.name == tname
        assert built.binary.file_backed(v.address) or any(
            s.vaddr <= v.address < s.vaddr + s.memsz for s in built.binary.segments), name
        sym = built.binary.symbol(name)
        if sym is not None:
            assert sym.addr == v.address
    assert d.variable("main.noSuchVar") is None


def test_values_decoded_from_the_file(built: Built) -> None:
    d = built.dwarf
    dec = ValueDecoder(Memory(BinaryMemory(built.binary)), d)

    def value(path: str) -> Any:
        """"main.gT.In.B": the global's value, then fields; a global that is a pointer is
        followed first."""
        pkg, name, *fields = path.split(".")
        var = d.variable(f"{pkg}.{name}")
        assert var is not None and var.type is not None
        v = dec.decode(var.type, var.address)
        if fields and var.type.kind == dw.POINTER:
            v = dec.decode(var.type.elem, int(v, 16))
        for f in fields:
            v = v[f]
        return v

    truth = built.truth["values"]
    for path in ("main.gInt", "main.gStr", "main.gSl", "main.gColor", "main.gT.Name", "main.gT.In.B", "main.gT.Arr",
                 "main.gT.Sl", "main.gT.I16", "main.gT.U32", "main.gT.F64", "main.gT.Strs", "main.gT.Tail"):
        assert value(path) == truth[path], path
    assert value("main.gT.Base.ID") == truth["main.gT.ID"]
    assert value("main.gP.B") == truth["main.gP.B"]
    gt = value("main.gT")
    assert gt["F32"] == 1.1 and gt["Cx"] == "(1-2.5i)" and gt["Bytes"] == [97, 98] and gt["Named"] == [4, 5]
    assert gt["Pairs"] == [{"A": 1, "B": 2}, {"A": 3, "B": 4}] and gt["Anon"] == {"X": 5, "Y": 6}
    assert gt["M"] == {"map": None, "count": 0} and gt["P"] is None and gt["E"] is None
    assert value("main.gE") == {"type": "int", "value": truth["main.gE"]}
    assert value("main.gEStr") == {"type": "string", "value": truth["main.gEStr"]}
    assert value("main.gErr") == {"type": "main.Code", "value": truth["main.gErr"]}
    assert value("main.gNilE") is None and built.truth["nil_interface"]
    assert value("main.gEmptySl") == []


def test_runtime_types(built: Built) -> None:
    d = built.dwarf
    var = d.variable("main.gE")
    type_word = struct.unpack("<Q", built.binary.read_vaddr(var.address, 8))[0]
    t = d.type_by_runtime_type(type_word)
    assert t is not None and t.name == "int"
    assert d.runtime_type_address(d.type_by_name("int")) == type_word
    assert built.binary.symbol("runtime.types").addr == d.types_base
    assert d.type_by_runtime_type(type_word + 1) is None


def test_map_types(built: Built) -> None:
    d = built.dwarf
    m = d.type_by_name("map[string]int")
    assert m.kind == dw.MAP and m.size == 8
    assert m.key.name == "string" and m.elem.name == "int"
    lk = d.type_by_name("main.Lookup")  # a named map type
    assert lk.kind == dw.MAP and lk.key.name == "string" and lk.elem.name == "*main.Node"
    if built.swiss:
        assert m.header.name == "map<string,int>"
        assert m.header.offset_of("used") == 0 and m.header.has_field("dirPtr")
        group = d.type_by_name("noalg.map.group[string]int")
        assert group is not None and [f.name for f in group.fields][:2] == ["ctrl", "slots"]
        table = m.header.field("dirPtr").type.elem.elem
        assert table.name == "table<string,int>"
        assert table.field("groups.data").type.elem.name == "noalg.map.group[string]int"
        assert d.type_by_name("runtime.hmap") is None
    else:
        assert m.header.name == "hash<string,int>"
        assert m.header.offset_of("count") == 0
        bucket = d.type_by_name("bucket<string,int>")
        assert [f.name for f in bucket.fields] == ["tophash", "keys", "values", "overflow"]
        assert m.header.field("buckets").type.elem is bucket
        assert d.type_by_name("runtime.hmap") is not None


def test_type_model(built: Built) -> None:
    d = built.dwarf
    kinds = {"int": dw.INT, "uint8": dw.UINT8, "uintptr": dw.UINTPTR, "float32": dw.FLOAT32,
             "complex128": dw.COMPLEX128, "bool": dw.BOOL, "string": dw.STRING, "[]int": dw.SLICE,
             "[3]uint16": dw.ARRAY, "*main.Inner": dw.POINTER, "unsafe.Pointer": dw.UNSAFE_POINTER,
             "chan int": dw.CHAN, "func()": dw.FUNC, "interface {}": dw.INTERFACE, "error": dw.INTERFACE,
             "main.T": dw.STRUCT, "main.Color": dw.UINT8, "main.Ints": dw.SLICE}
    for name, kind in kinds.items():
        t = d.type_by_name(name)
        assert t is not None and t.kind == kind, name
    assert d.type_by_name("interface {}").empty is True and d.type_by_name("error").empty is False
    assert d.type_by_name("[3]uint16").length == 3 and d.type_by_name("[3]uint16").elem.name == "uint16"
    assert d.type_by_name("[]int").elem.name == "int" and d.type_by_name("chan int").elem.name == "int"
    node = d.struct("main.Node")
    assert node.field("Next").type.elem is node  # a type that points to itself
    synth = d.type_by_name("*main.T")  # no such DIE unless the program uses *main.T: made up
    assert synth.kind == dw.POINTER and synth.elem is d.type_by_name("main.T")
    assert d.type_by_name("main.NoSuchType") is None
    with pytest.raises(UnsupportedError, match="no type"):
        d.struct("main.NoSuchType")
    with pytest.raises(UnsupportedError, match="not a struct"):
        d.struct("int")


def test_runtime_structs(built: Built) -> None:
    g = built.dwarf.struct("runtime.g")
    for path in ("stack.lo", "stack.hi", "sched.sp", "sched.pc", "atomicstatus.value", "goid", "m", "_panic"):
        assert g.has_field(path), path
    assert g.offset_of("stack.lo") == 0 and g.offset_of("stack.hi") == 8
    assert g.offset_of("sched.sp") == g.offset_of("sched") + built.dwarf.struct("runtime.gobuf").offset_of("sp")
    assert built.dwarf.struct("runtime.m").has_field("procid")
    with pytest.raises(UnsupportedError, match="no field"):
        g.offset_of("sched.nosuch")


# --- the index: right, fast, cached ----------------------------------------------------------


def test_index_matches_a_pyelftools_walk(built: Built) -> None:
    """The fast walker against pyelftools' own (slow, complete) DIE walk; on the oldest and
    newest toolchain only (DWARF 4 and DWARF 5), as it takes seconds."""
    if built.version not in (TOOLCHAINS[0][0], TOOLCHAINS[-1][0]):
        pytest.skip("the pyelftools cross-check runs on the oldest and newest toolchain")
    dwi = built.binary.elf.get_dwarf_info()
    type_tags = {"DW_TAG_array_type", "DW_TAG_pointer_type", "DW_TAG_structure_type", "DW_TAG_subroutine_type",
                 "DW_TAG_typedef", "DW_TAG_base_type", "DW_TAG_unspecified_type"}
    types: dict[str, int] = {}
    variables: dict[str, int] = {}
    constants: dict[str, int] = {}
    for cu in dwi.iter_CUs():
        for die in cu.get_top_DIE().iter_children():
            a = die.attributes
            name = a["DW_AT_name"].value.decode() if "DW_AT_name" in a else None
            if name is None:
                continue
            if die.tag in type_tags:
                types.setdefault(name, die.offset)
            elif die.tag == "DW_TAG_variable" and "DW_AT_location" in a:
                loc = a["DW_AT_location"].value
                if isinstance(loc, list) and len(loc) == 9 and loc[0] == raw.DW_OP_addr:
                    variables.setdefault(name, int.from_bytes(bytes(loc[1:]), "little"))
            elif die.tag == "DW_TAG_constant":
                constants.setdefault(name, a["DW_AT_const_value"].value)
    d = built.dwarf
    assert dict(d._index.types) == types
    assert {k: v[0] for k, v in d._index.variables.items() if v[0] >= 0} == variables
    assert d._index.constants == constants


def test_index_cache(built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GODBG_CACHE", str(tmp_path))
    cold = DwarfInfo.from_binary(GoBinary(str(built.path)))
    assert cold.index_source == "built"
    files = list((tmp_path / "dwarf").iterdir())
    assert len(files) == 1
    warm = DwarfInfo.from_binary(GoBinary(str(built.path)))
    assert warm.index_source == "cache"
    assert warm._index == cold._index
    assert warm.struct("main.T").offset_of("Tail") == built.truth["layouts"]["main.T"]["offsets"]["Tail"]
    # A corrupt cache file is rebuilt, never fatal.
    for junk in (b"", b"garbage", files[0].read_bytes()[:100]):
        files[0].write_bytes(junk)
        again = DwarfInfo.from_binary(GoBinary(str(built.path)))
        assert again.index_source == "built" and again._index == cold._index
    # The cache keeps the newest few indexes only.
    for i in range(5):
        (tmp_path / "dwarf" / f"old{i}.idx").write_bytes(b"x")
        os.utime(tmp_path / "dwarf" / f"old{i}.idx", ns=(i, i))
    monkeypatch.setattr(dw, "CACHE_KEEP", 3)
    files[0].unlink()
    DwarfInfo.from_binary(GoBinary(str(built.path)))
    left = sorted(p.name for p in (tmp_path / "dwarf").iterdir())
    assert len(left) == 3 and "old0.idx" not in left and "old4.idx" in left
    # So is a cache directory that cannot be made.
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("GODBG_CACHE", str(blocker / "sub"))
    assert DwarfInfo.from_binary(GoBinary(str(built.path))).constant("main.Answer") == 42


def test_no_dwarf(tmp_path: Path) -> None:
    _skip_without_go()
    _, go = TOOLCHAINS[-1]
    out = go_build(go, tmp_path / "nodwarf", "-ldflags=-w")
    binary = GoBinary(str(out))
    assert not binary.has_dwarf
    with pytest.raises(UnsupportedError, match="has no DWARF"):
        DwarfInfo.from_binary(binary)
    with pytest.raises(UnsupportedError, match="has no DWARF"):
        binary.dwarf  # noqa: B018


def test_from_sections_without_a_binary(built: Built) -> None:
    elf = built.binary.elf
    info = elf.get_section_by_name(".debug_info").data()
    abbrev = elf.get_section_by_name(".debug_abbrev").data()
    d = DwarfInfo.from_sections(info, abbrev)
    assert d.struct("main.Inner").offset_of("B") == built.truth["layouts"]["main.Inner"]["offsets"]["B"]


# --- hand-made DWARF: the reader without a Go toolchain ----------------------------------------

# Abbreviation codes of the tiny DWARF 4 unit below.
_CU, _STRUCT, _MEMBER, _BASE, _VAR, _CONST, _PTR = range(1, 8)


def _uleb_bytes(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def _abbrevs() -> bytes:
    def ab(code: int, tag: int, children: bool, *attrs: tuple[int, int]) -> bytes:
        body = b"".join(_uleb_bytes(a) + _uleb_bytes(f) for a, f in attrs)
        return _uleb_bytes(code) + _uleb_bytes(tag) + bytes([children]) + body + b"\0\0"

    name = (raw.DW_AT_name, raw.DW_FORM_string)
    typ = (raw.DW_AT_type, raw.DW_FORM_ref_addr)
    return (ab(_CU, 0x11, True, name)
            + ab(_STRUCT, raw.DW_TAG_structure_type, True, name, (raw.DW_AT_byte_size, raw.DW_FORM_udata),
                 (raw.DW_AT_go_kind, raw.DW_FORM_data1))
            + ab(_MEMBER, raw.DW_TAG_member, False, name, (raw.DW_AT_data_member_location, raw.DW_FORM_udata), typ)
            + ab(_BASE, raw.DW_TAG_base_type, False, name, (raw.DW_AT_encoding, raw.DW_FORM_data1),
                 (raw.DW_AT_byte_size, raw.DW_FORM_data1), (raw.DW_AT_go_kind, raw.DW_FORM_data1),
                 (raw.DW_AT_go_runtime_type, raw.DW_FORM_addr))
            + ab(_VAR, raw.DW_TAG_variable, False, name, (raw.DW_AT_location, raw.DW_FORM_exprloc), typ)
            + ab(_CONST, raw.DW_TAG_constant, False, name, typ, (raw.DW_AT_const_value, raw.DW_FORM_sdata))
            + ab(_PTR, raw.DW_TAG_pointer_type, False, name, typ)
            + b"\0")


def _unit(self_contained: bool = False) -> bytes:
    """One DWARF 4 unit: int, struct main.P {X int; Next *main.P}, a global and a constant."""
    header = 11
    dies = bytearray()

    def die(code: int, *parts: bytes) -> int:
        off = header + len(dies)
        dies.extend(_uleb_bytes(code) + b"".join(parts))
        return off

    def s(text: str) -> bytes:
        return text.encode() + b"\0"

    die(_CU, s("main"))
    int_off = die(_BASE, s("int"), bytes([raw.DW_ATE_signed, 8, 2]), struct.pack("<Q", 0x40))
    ptr_off = header + len(dies)
    p_off = ptr_off + 1 + len(s("*main.P")) + 4  # the struct comes right after the pointer
    die(_PTR, s("*main.P"), struct.pack("<I", p_off))
    assert die(_STRUCT, s("main.P"), _uleb_bytes(16), bytes([25])) == p_off
    die(_MEMBER, s("X"), _uleb_bytes(0), struct.pack("<I", int_off))
    die(_MEMBER, s("Next"), _uleb_bytes(8), struct.pack("<I", p_off if self_contained else ptr_off))
    dies.append(0)
    die(_VAR, s("main.gp"), _uleb_bytes(9) + bytes([raw.DW_OP_addr]) + struct.pack("<Q", 0x5000),
        struct.pack("<I", p_off))
    die(_CONST, s("main.K"), struct.pack("<I", int_off), b"\x7f")  # sleb -1
    dies.append(0)
    body = struct.pack("<HIB", 4, 0, 8) + bytes(dies)
    return struct.pack("<I", len(body)) + body


def test_hand_made_dwarf() -> None:
    d = DwarfInfo.from_sections(_unit(), _abbrevs(), types_base=0x1000)
    p = d.struct("main.P")
    assert [(f.name, f.offset, f.type.name) for f in p.fields] == [("X", 0, "int"), ("Next", 8, "*main.P")]
    assert p.field("Next").type.elem is p
    assert d.type_by_name("int").kind == dw.INT and d.type_by_name("int").runtime_type == 0x40
    assert d.type_by_runtime_type(0x1040) is d.type_by_name("int")
    v = d.variable("main.gp")
    assert v.address == 0x5000 and v.type.name == "main.P"
    assert d.constant("main.K") == -1


def test_a_struct_that_contains_itself_is_corrupt_not_a_hang() -> None:
    d = DwarfInfo.from_sections(_unit(self_contained=True), _abbrevs())
    with pytest.raises(CorruptError):
        d.struct("main.P")


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=400), st.binary(min_size=1, max_size=8))
def test_damaged_dwarf_raises_godbg_errors(at: int, junk: bytes) -> None:
    info = bytearray(_unit())
    at = at % len(info)
    info[at : at + len(junk)] = junk
    try:
        d = DwarfInfo.from_sections(bytes(info), _abbrevs())
        for name in list(d.type_names()):
            t = d.type_at(d._index.types[name])
            if t is not None and t.fields:
                for f in t.fields:
                    _ = f.type.elem
        for name in list(d.variable_names()):
            v = d.variable(name)
            _ = v.type if v is not None else None
    except GodbgError:
        pass
