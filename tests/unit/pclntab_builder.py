"""Builds small Go 1.20+ pclntabs for unit tests: the header, name/cu/file tables,
pcvalue tables and _func records laid out as the linker lays them out
(runtime/symtab.go, runtime/runtime2.go), plus inline trees as funcdata."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from godbg.program.pclntab import FUNCDATA_INL_TREE, GO120_MAGIC, NO_FUNCDATA, PCDATA_INL_TREE_INDEX

TEXT = 0x401000
GOFUNC = 0x600000

Table = list[tuple[int, int]]  # (end offset from entry, value) runs


@dataclass
class FuncSpec:
    name: str
    size: int
    pcsp: Table
    lines: Table  # pcln
    file: int = 0  # one file for the whole function (index into the CU's files)
    flag: int = 0
    func_id: int = 0
    start_line: int = 1
    inline_index: Table | None = None  # PCDATA_InlTreeIndex runs
    inline_tree: list[tuple[int, str, int, int]] = field(default_factory=list)  # funcID, name, parentPc, startLine
    files: Table | None = None  # pcfile runs (overrides ``file``)


def uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pcvalue_table(runs: Table, quantum: int = 1) -> bytes:
    """Encode runs as Go's pcvalue: zigzag value deltas from -1, pc deltas in quanta."""
    merged: Table = []
    for end, v in runs:  # a zero delta would end the table: merge equal neighbours
        if merged and merged[-1][1] == v:
            merged[-1] = (end, v)
        else:
            merged.append((end, v))
    out = bytearray()
    val, pc = -1, 0
    for end, v in merged:
        delta = v - val
        uv = (delta << 1) if delta >= 0 else ((-delta - 1) << 1) | 1
        out += uvarint(uv & 0xFFFFFFFF)
        out += uvarint((end - pc) // quantum)
        val, pc = v, end
    out.append(0)
    return bytes(out)


def build(funcs: list[FuncSpec], files: list[str], quantum: int = 1) -> tuple[bytes, dict[int, bytes]]:
    """The pclntab bytes, and the static memory (address -> bytes) holding funcdata."""
    names = bytearray()
    name_off: dict[str, int] = {}

    def name(n: str) -> int:
        if n not in name_off:
            name_off[n] = len(names)
            names.extend(n.encode() + b"\0")
        return name_off[n]

    filetab = bytearray()
    cutab = bytearray()
    for f in files:
        cutab += struct.pack("<I", len(filetab))
        filetab += f.encode() + b"\0"
    pctab = bytearray(b"\0")  # offset 0 means "no table"

    def table(runs: Table | None) -> int:
        if not runs:
            return 0
        off = len(pctab)
        pctab.extend(pcvalue_table(runs, quantum))
        return off

    static: dict[int, bytes] = {}
    gofunc_data = bytearray()
    records = []
    entry = 0
    for spec in funcs:
        pcdata = [0, 0, table(spec.inline_index)] if spec.inline_index else []
        funcdata = []
        if spec.inline_tree:
            funcdata = [NO_FUNCDATA] * (FUNCDATA_INL_TREE + 1)
            funcdata[FUNCDATA_INL_TREE] = len(gofunc_data)
            for func_id, iname, parent_pc, start_line in spec.inline_tree:
                gofunc_data += struct.pack("<B3xiii", func_id, name(iname), parent_pc, start_line)
        file_runs = spec.files or [(spec.size, spec.file)]
        rec = struct.pack("<IiiIIIIIIiBBBB", entry, name(spec.name), 0, 0, table(spec.pcsp), table(file_runs),
                          table(spec.lines), len(pcdata), 0, spec.start_line, spec.func_id, spec.flag, 0,
                          len(funcdata))
        rec += struct.pack(f"<{len(pcdata)}I", *pcdata) + struct.pack(f"<{len(funcdata)}I", *funcdata)
        records.append((entry, rec))
        entry += spec.size
    static[GOFUNC] = bytes(gofunc_data)
    assert PCDATA_INL_TREE_INDEX == 2

    nfunc = len(funcs)
    functab_size = 8 * (nfunc + 1)
    pclntable = bytearray(functab_size)
    offsets = []
    for entry_off, rec in records:
        while len(pclntable) % 4:
            pclntable.append(0)
        offsets.append((entry_off, len(pclntable)))
        pclntable += rec
    for i, (entry_off, func_off) in enumerate(offsets):
        struct.pack_into("<II", pclntable, 8 * i, entry_off, func_off)
    struct.pack_into("<II", pclntable, 8 * nfunc, entry, 0)

    header_size = 72
    funcname_off = header_size
    cu_off = funcname_off + len(names)
    filetab_off = cu_off + len(cutab)
    pctab_off = filetab_off + len(filetab)
    pcln_off = pctab_off + len(pctab)
    header = struct.pack("<IBBBBQQQQQQQQ", GO120_MAGIC, 0, 0, quantum, 8, nfunc, len(files), TEXT,
                         funcname_off, cu_off, filetab_off, pctab_off, pcln_off)
    return header + bytes(names) + bytes(cutab) + bytes(filetab) + bytes(pctab) + bytes(pclntable), static


def static_reader(static: dict[int, bytes]):
    from godbg.errors import FaultError

    def read(addr: int, n: int) -> bytes:
        for base, blob in static.items():
            if base <= addr and addr + n <= base + len(blob):
                return blob[addr - base : addr - base + n]
        raise FaultError(addr, n)

    return read
