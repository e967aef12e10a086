"""The Go pc/line table (`.gopclntab`, Go 1.20+ format) and the funcdata it points at.

Everything the runtime itself uses to print a traceback: pc -> function, the stack
pointer delta at a pc (pcsp), file and line (pcfile/pcln), the other pcdata tables,
funcdata (the inline tree), read from the executable's file bytes. It needs no DWARF
and no symbol table, so stripped binaries work too.

Formats (Go 1.22-1.27, verified in each GOROOT): runtime/symtab.go (pcHeader,
moduledata, pcvalue/step, funcfile, funcline1), runtime/runtime2.go (_func),
runtime/symtabinl.go (inlinedCall), internal/abi/symtab.go (magic, FuncID, FuncFlag,
PCDATA_*/FUNCDATA_*), debug/gosym/pclntab.go (the same from the outside).
"""

from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from godbg.errors import CorruptError, FaultError, UnsupportedError

if TYPE_CHECKING:
    from godbg.program.binary import GoBinary

GO120_MAGIC = 0xFFFFFFF1
OLDER_MAGICS = {0xFFFFFFFB: "1.2", 0xFFFFFFFA: "1.16", 0xFFFFFFF0: "1.18"}

# pcHeader (64-bit): magic u32, pad1 u8, pad2 u8, minLC u8, ptrSize u8, nfunc int,
# nfiles uint, textStart uintptr (unused from 1.26), then five offsets from the header.
_HEADER = struct.Struct("<IBBBBQQQQQQQQ")

# _func: entryOff u32, nameOff i32, args i32, deferreturn u32, pcsp u32, pcfile u32,
# pcln u32, npcdata u32, cuOffset u32, startLine i32, funcID u8, flag u8, pad u8,
# nfuncdata u8; then pcdata [npcdata]u32 and funcdata [nfuncdata]u32.
_FUNC = struct.Struct("<IiiIIIIIIiBBBB")

# inlinedCall: funcID u8, pad [3]u8, nameOff i32, parentPc i32, startLine i32.
_INLINED_CALL = struct.Struct("<B3xiii")

# internal/abi: FuncFlag bits.
FUNC_FLAG_TOP_FRAME = 1
FUNC_FLAG_SPWRITE = 2
FUNC_FLAG_ASM = 4

# internal/abi: PCDATA and FUNCDATA table indexes (stable 1.22-1.27).
PCDATA_UNSAFE_POINT = 0
PCDATA_STACK_MAP_INDEX = 1
PCDATA_INL_TREE_INDEX = 2
PCDATA_ARG_LIVE_INDEX = 3
FUNCDATA_ARGS_POINTER_MAPS = 0
FUNCDATA_LOCALS_POINTER_MAPS = 1
FUNCDATA_STACK_OBJECTS = 2
FUNCDATA_INL_TREE = 3
FUNCDATA_OPEN_CODED_DEFER_INFO = 4
FUNCDATA_ARG_INFO = 5
FUNCDATA_ARG_LIVE_INFO = 6
FUNCDATA_WRAP_INFO = 7

NO_FUNCDATA = 0xFFFFFFFF
NO_FILE = 0xFFFFFFFF

# moduledata word indexes (runtime/symtab.go). Stable up to `text`; `gofunc` moved when
# 1.27 added typedesclen, itaboffset and itabsize before it.
_MD_PCHEADER = 0
_MD_FUNCNAMETAB = 1
_MD_TEXT = 22
_MD_GOFUNC_CANDIDATES = (40, 43)  # 1.22-1.26, 1.27
_MD_WORDS = 48

# Special functions, found by name: the FuncID enum is renumbered between releases
# (1.25 replaced runfinq by runFinalizers and runCleanups), so godbg reads each id from
# the function's own _func record instead of a per-release table.
SPECIAL_FUNCS = {
    "abort": "runtime.abort",
    "asmcgocall": "runtime.asmcgocall",
    "asyncPreempt": "runtime.asyncPreempt",
    "cgocallback": "runtime.cgocallback",
    "debugCallV2": "runtime.debugCallV2",
    "goexit": "runtime.goexit",
    "gogo": "runtime.gogo",
    "gopanic": "runtime.gopanic",
    "mcall": "runtime.mcall",
    "morestack": "runtime.morestack",
    "mstart": "runtime.mstart",
    "panicwrap": "runtime.panicwrap",
    "rt0_go": "runtime.rt0_go",
    "runtime_main": "runtime.main",
    "sigpanic": "runtime.sigpanic",
    "systemstack": "runtime.systemstack",
    "systemstack_switch": "runtime.systemstack_switch",
    "runfinq": "runtime.runfinq",
    "runFinalizers": "runtime.runFinalizers",
    "runCleanups": "runtime.runCleanups",
}


@dataclass(frozen=True)
class Func:
    """One function's _func record. ``entry``/``end`` are absolute pcs."""

    name: str
    entry: int
    end: int
    func_id: int
    flag: int
    args: int
    deferreturn: int
    start_line: int
    pcsp: int
    pcfile: int
    pcln: int
    cu_offset: int
    pcdata: tuple[int, ...]
    funcdata: tuple[int, ...]
    index: int  # position in the functab

    @property
    def is_top_frame(self) -> bool:
        return bool(self.flag & FUNC_FLAG_TOP_FRAME)

    @property
    def is_asm(self) -> bool:
        return bool(self.flag & FUNC_FLAG_ASM)


@dataclass(frozen=True)
class InlinedFrame:
    """One logical frame at a pc: an inlined call (``inlined``) or the physical function."""

    name: str
    func_id: int
    file: str
    line: int
    start_line: int
    inlined: bool


class Pclntab:
    """A reader over one module's pclntab. Construct with ``from_binary``."""

    def __init__(self, data: bytes, *, text: int, gofunc: int | None,
                 read_static: Callable[[int, int], bytes] | None = None) -> None:
        """``data``: the table from its pcHeader on; ``text``: moduledata.text;
        ``gofunc``: moduledata.gofunc (funcdata base); ``read_static(addr, n)``: bytes of
        the binary's read-only data (where funcdata lives), raising FaultError."""
        if len(data) < _HEADER.size:
            raise CorruptError("the pclntab is too short for its header")
        (magic, _p1, _p2, min_lc, ptr_size, nfunc, nfiles, _text_start, funcname_off, cu_off, filetab_off,
         pctab_off, pcln_off) = _HEADER.unpack_from(data, 0)
        if magic != GO120_MAGIC:
            older = OLDER_MAGICS.get(magic)
            if older:
                raise UnsupportedError(f"this binary's pclntab is the Go {older} format; godbg reads Go 1.20+")
            raise CorruptError(f"not a Go pclntab (magic {magic:#x})")
        if ptr_size != 8:
            raise UnsupportedError(f"pclntab pointer size {ptr_size}: only 64-bit targets are supported")
        if min_lc not in (1, 2, 4):
            raise CorruptError(f"implausible pclntab instruction quantum {min_lc}")
        if not all(0 < off <= len(data) for off in (funcname_off, cu_off, filetab_off, pctab_off, pcln_off)):
            raise CorruptError("pclntab header offsets point outside the table")
        if (nfunc + 1) * 8 > len(data) - pcln_off:
            raise CorruptError(f"pclntab claims {nfunc} functions, more than fit in it")
        self.data = data
        self.quantum = min_lc
        self.nfunc = nfunc
        self.nfiles = nfiles
        self.text = text
        self.gofunc = gofunc
        self.read_static = read_static
        self._funcnametab = funcname_off
        self._cutab = cu_off
        self._filetab = filetab_off
        self._pctab = pctab_off
        self._pcln = pcln_off
        # functab: nfunc+1 pairs {entryOff u32, funcOff u32}; the last entryOff is the
        # end of the module's text.
        pairs = struct.unpack_from(f"<{2 * (nfunc + 1)}I", data, pcln_off)
        self._entry_offs: list[int] = list(pairs[0::2])
        self._func_offs: list[int] = list(pairs[1::2])
        self.end = text + self._entry_offs[-1]
        self._funcs: dict[int, Func] = {}
        self._tables: dict[tuple[int, int], tuple[list[int], list[int]]] = {}
        self._names: dict[int, str] = {}
        self._files: dict[int, str] = {}
        self._by_name: dict[str, int] | None = None
        self._special: dict[str, int] | None = None
        self._inl_trees: dict[int, bytes | None] = {}

    # --- construction ----------------------------------------------------------------

    @classmethod
    def from_binary(cls, binary: GoBinary) -> Pclntab:
        sec = binary.pclntab_section
        if sec is not None:
            header_addr = sec.addr
            data = bytes(binary.section_bytes(sec.name) or b"")
        else:
            sym = binary.symbol("runtime.pclntab")
            if sym is None:
                raise UnsupportedError(f"{binary.path} has no .gopclntab section: not a Go binary?")
            header_addr = sym.addr
            end = binary.symbol("runtime.epclntab")
            size = (end.addr - sym.addr) if end is not None else _HEADER.size
            data = binary.read_vaddr(sym.addr, size)
        # The file holds link-time pointers: relocate what is taken from it.
        bias = binary.load_bias
        moduledata = _find_moduledata(binary, header_addr, data)
        text = gofunc = None
        if moduledata is not None:
            text = moduledata[_MD_TEXT] + bias if moduledata[_MD_TEXT] else None
            gofunc = _gofunc(binary, moduledata)
        if not text:
            text_start = _HEADER.unpack_from(data, 0)[7] if len(data) >= _HEADER.size else 0
            text = (text_start + bias if text_start else
                    binary.sections[".text"].addr if ".text" in binary.sections else 0)
        if gofunc is None:
            sym = binary.symbol("go:func.*")
            gofunc = sym.addr if sym is not None else None
        return cls(data, text=text, gofunc=gofunc, read_static=binary.read_vaddr)

    # --- functions ---------------------------------------------------------------------

    def find_func(self, pc: int) -> Func | None:
        """The function holding ``pc``, or None outside this module's text."""
        off = pc - self.text
        if off < 0 or pc >= self.end:
            return None
        i = bisect.bisect_right(self._entry_offs, off, 0, self.nfunc) - 1
        if i < 0:
            return None
        return self.func_at(i)

    def func_at(self, index: int) -> Func:
        f = self._funcs.get(index)
        if f is None:
            f = self._decode_func(index)
            self._funcs[index] = f
        return f

    def _decode_func(self, index: int) -> Func:
        base = self._pcln + self._func_offs[index]
        if base + _FUNC.size > len(self.data):
            raise CorruptError(f"pclntab function record {index} lies outside the table")
        (entry_off, name_off, args, deferreturn, pcsp, pcfile, pcln, npcdata, cu_offset, start_line, func_id,
         flag, _pad, nfuncdata) = _FUNC.unpack_from(self.data, base)
        tail = base + _FUNC.size
        if tail + 4 * (npcdata + nfuncdata) > len(self.data) or npcdata > 1024:
            raise CorruptError(f"pclntab function record {index} is corrupt")
        extra = struct.unpack_from(f"<{npcdata + nfuncdata}I", self.data, tail)
        return Func(
            name=self._name(name_off),
            entry=self.text + entry_off,
            end=self.text + self._entry_offs[index + 1],
            func_id=func_id,
            flag=flag,
            args=args,
            deferreturn=deferreturn,
            start_line=start_line,
            pcsp=pcsp,
            pcfile=pcfile,
            pcln=pcln,
            cu_offset=cu_offset,
            pcdata=tuple(extra[:npcdata]),
            funcdata=tuple(extra[npcdata:]),
            index=index,
        )

    def function_names(self) -> list[str]:
        return [self.func_at(i).name for i in range(self.nfunc)]

    def func_by_name(self, name: str) -> Func | None:
        if self._by_name is None:
            by_name: dict[str, int] = {}
            for i in range(self.nfunc):
                pos = self._pcln + self._func_offs[i] + 4
                if pos + 4 > len(self.data):
                    raise CorruptError(f"pclntab function record {i} lies outside the table")
                name_off = struct.unpack_from("<i", self.data, pos)[0]
                by_name.setdefault(self._name(name_off), i)
            self._by_name = by_name
        index = self._by_name.get(name)
        return None if index is None else self.func_at(index)

    def special_ids(self) -> dict[str, int]:
        """FuncID of each special runtime function present in the binary, by role name
        (``"systemstack"``, ``"sigpanic"``, ...), plus ``"wrapper"``: the enum's last
        value, one past systemstack_switch in every release 1.22-1.27."""
        if self._special is None:
            ids: dict[str, int] = {}
            for role, fname in SPECIAL_FUNCS.items():
                f = self.func_by_name(fname)
                if f is not None and f.func_id:
                    ids[role] = f.func_id
            if "systemstack_switch" in ids:
                ids["wrapper"] = ids["systemstack_switch"] + 1
            self._special = ids
        return self._special

    def _name(self, name_off: int) -> str:
        name = self._names.get(name_off)
        if name is None:
            name = self._cstring(self._funcnametab + name_off)
            self._names[name_off] = name
        return name

    def _cstring(self, start: int) -> str:
        if not 0 <= start < len(self.data):
            return "?"
        end = self.data.find(b"\0", start)
        if end < 0:
            end = len(self.data)
        return self.data[start:end].decode("utf-8", "replace")

    # --- pc-value tables -----------------------------------------------------------------

    def _table(self, f: Func, off: int) -> tuple[list[int], list[int]]:
        """A pcvalue table decoded once: value ``vals[i]`` holds for pcs below ``pcs[i]``."""
        key = (off, f.entry)
        found = self._tables.get(key)
        if found is not None:
            return found
        data = self.data
        pos = self._pctab + off
        size = len(data)
        quantum = self.quantum
        pcs: list[int] = []
        vals: list[int] = []
        pc = f.entry
        val = -1
        limit = f.end + 1
        while pos < size:
            b = data[pos]
            pos += 1
            if b == 0 and pc != f.entry:
                break
            uv = b & 0x7F
            shift = 7
            while b & 0x80:
                if pos >= size:
                    raise CorruptError(f"pcvalue table of {f.name} runs off the pclntab")
                b = data[pos]
                pos += 1
                uv |= (b & 0x7F) << shift
                shift += 7
            uv &= 0xFFFFFFFF
            val += -((uv >> 1) + 1) if uv & 1 else uv >> 1
            if pos >= size:
                raise CorruptError(f"pcvalue table of {f.name} runs off the pclntab")
            b = data[pos]
            pos += 1
            pd = b & 0x7F
            shift = 7
            while b & 0x80:
                if pos >= size:
                    raise CorruptError(f"pcvalue table of {f.name} runs off the pclntab")
                b = data[pos]
                pos += 1
                pd |= (b & 0x7F) << shift
                shift += 7
            pc += (pd & 0xFFFFFFFF) * quantum
            val = ((val + 0x80000000) & 0xFFFFFFFF) - 0x80000000  # int32 arithmetic, as Go's
            pcs.append(pc)
            vals.append(val)
            if pc > limit:
                break
        found = (pcs, vals)
        self._tables[key] = found
        return found

    def pcvalue(self, f: Func, off: int, pc: int) -> int:
        """Go's pcvalue: the table's value at ``pc``, -1 when there is none."""
        if off == 0:
            return -1
        pcs, vals = self._table(f, off)
        i = bisect.bisect_right(pcs, pc)
        return vals[i] if i < len(vals) else -1

    def pcsp(self, f: Func, pc: int) -> int:
        """Bytes the function's frame has pushed below its entry SP at ``pc``."""
        return self.pcvalue(f, f.pcsp, pc)

    def pcdata(self, f: Func, table: int, pc: int) -> int:
        if table >= len(f.pcdata):
            return -1
        return self.pcvalue(f, f.pcdata[table], pc)

    def file_name(self, f: Func, fileno: int) -> str:
        if fileno < 0:
            return "?"
        pos = self._cutab + 4 * (f.cu_offset + fileno)
        if pos + 4 > self._filetab or pos + 4 > len(self.data):
            return "?"
        fileoff = struct.unpack_from("<I", self.data, pos)[0]
        if fileoff == NO_FILE:
            return "?"
        name = self._files.get(fileoff)
        if name is None:
            name = self._cstring(self._filetab + fileoff)
            self._files[fileoff] = name
        return name

    def pcline(self, f: Func, pc: int) -> tuple[str, int]:
        """Go's funcline1: (file, line) at ``pc``; ("?", 0) when the tables have none."""
        fileno = self.pcvalue(f, f.pcfile, pc)
        line = self.pcvalue(f, f.pcln, pc)
        if fileno == -1 or line == -1:
            return "?", 0
        return self.file_name(f, fileno), line

    pcfile = pcline

    # --- funcdata and the inline tree ----------------------------------------------------

    def funcdata(self, f: Func, index: int) -> int | None:
        """Address of funcdata ``index`` (relative to moduledata.gofunc), or None."""
        if index >= len(f.funcdata) or self.gofunc is None:
            return None
        off = f.funcdata[index]
        if off == NO_FUNCDATA:
            return None
        return self.gofunc + off

    def _inline_tree(self, f: Func) -> bytes | None:
        if f.index in self._inl_trees:
            return self._inl_trees[f.index]
        tree = None
        addr = self.funcdata(f, FUNCDATA_INL_TREE)
        if addr is not None and self.read_static is not None:
            # The tree's length is not recorded: its largest index appears in the
            # PCDATA_InlTreeIndex table, so read exactly that many entries.
            n = 0
            if PCDATA_INL_TREE_INDEX < len(f.pcdata) and f.pcdata[PCDATA_INL_TREE_INDEX]:
                _pcs, vals = self._table(f, f.pcdata[PCDATA_INL_TREE_INDEX])
                n = max(vals, default=-1) + 1
            try:
                tree = self.read_static(addr, _INLINED_CALL.size * n) if n > 0 else None
            except FaultError:
                tree = None
        self._inl_trees[f.index] = tree
        return tree

    def inline_frames(self, f: Func, pc: int) -> list[InlinedFrame]:
        """The logical frames at ``pc`` (a "call pc", already backed up into the CALL for
        return addresses), innermost first; the last is always ``f`` itself. File and line
        of each are where that frame is executing, as Go's inlineUnwinder.fileLine gives."""
        out: list[InlinedFrame] = []
        tree = self._inline_tree(f)
        seen: set[int] = set()
        while True:
            file, line = self.pcline(f, pc)
            index = self.pcdata(f, PCDATA_INL_TREE_INDEX, pc) if tree is not None else -1
            if index < 0 or tree is None or (index + 1) * _INLINED_CALL.size > len(tree) or index in seen:
                # A corrupt tree that loops ends at the physical function, as Go's does.
                out.append(InlinedFrame(f.name, f.func_id, file, line, f.start_line, False))
                return out
            seen.add(index)
            func_id, name_off, parent_pc, start_line = _INLINED_CALL.unpack_from(tree, index * _INLINED_CALL.size)
            out.append(InlinedFrame(self._name(name_off), func_id, file, line, start_line, True))
            pc = f.entry + parent_pc


def _find_moduledata(binary: GoBinary, header_addr: int, data: bytes) -> tuple[int, ...] | None:
    """The words of runtime.firstmoduledata as the file holds them (link-time pointers),
    found by symbol or, in a stripped binary, by scanning the data sections for a
    moduledata whose pcHeader is this pclntab."""
    header_addr -= binary.load_bias
    funcname_addr = header_addr + _HEADER.unpack_from(data, 0)[8] if len(data) >= _HEADER.size else None
    sym = binary.symbol("runtime.firstmoduledata")
    if sym is not None:
        try:
            return struct.unpack_from(f"<{_MD_WORDS}Q", binary.read_vaddr(sym.addr, 8 * _MD_WORDS))
        except FaultError:
            pass
    needle = struct.pack("<QQ", header_addr, funcname_addr or 0)
    for name in (".go.module", ".noptrdata", ".data", ".data.rel.ro"):
        raw = binary.section_bytes(name)
        sec = binary.sections.get(name)
        if raw is None or sec is None:
            continue
        blob = bytes(raw)
        pos = blob.find(needle)
        while pos >= 0:
            if pos % 8 == 0:
                try:
                    return struct.unpack_from(f"<{_MD_WORDS}Q", binary.read_vaddr(sec.addr + pos, 8 * _MD_WORDS))
                except FaultError:
                    return None
            pos = blob.find(needle, pos + 1)
    return None


def _gofunc(binary: GoBinary, words: tuple[int, ...]) -> int | None:
    """moduledata.gofunc: the word after `rodata`, which is the .rodata section's start.
    Probed at each release's position instead of trusting a version number."""
    bias = binary.load_bias
    rodata = binary.sections.get(".rodata")
    for i in _MD_GOFUNC_CANDIDATES:
        if rodata is not None and words[i - 1] + bias == rodata.addr and words[i] + bias >= rodata.addr:
            return words[i] + bias
    for i in _MD_GOFUNC_CANDIDATES:
        if words[i - 1] and words[i] > words[i - 1] and binary.file_backed(words[i] + bias) is not None:
            return words[i] + bias
    return None


def package_of(function: str) -> str:
    """The import path of a function's package: up to the first dot after the last slash
    (as runtime.funcpkgpath cuts it)."""
    paren = function.find("(")
    slash = function.rfind("/", 0, paren if paren >= 0 else len(function))
    dot = function.find(".", slash + 1)
    return function[:dot] if dot >= 0 else function


def print_name(name: str) -> str:
    """The name as Go's traceback prints it (funcNameForPrint): the type arguments of
    generic functions shown as ``[...]``."""
    i = name.find("[")
    if i < 0:
        return name
    j = name.rfind("]")
    if j <= i:
        return name
    interior = name[i + 1 : j]
    if "[" not in interior:
        return name[:i] + "[...]" + name[j + 1 :]
    depth = 1
    rbr = lbr = -1
    for k, c in enumerate(interior):
        if c == "[":
            depth += 1
            if depth != 1:
                continue
            lbr = k
            break
        if c == "]":
            depth -= 1
            if depth < 0:
                break
            if depth != 0:
                continue
            rbr = k
    if depth == 1:
        if rbr >= 0 and lbr > rbr:
            return name[:i] + "[...]" + interior[rbr + 1 : lbr] + "[...]" + name[j + 1 :]
        if rbr == -1 and lbr == -1:
            return name[:i] + "[...]" + name[j + 1 :]
    return name
