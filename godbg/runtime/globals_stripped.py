"""Runtime globals in binaries without a symbol table (`-ldflags=-s -w`).

A stripped Go binary keeps its pclntab (function names and bounds) but loses every
data symbol: ``runtime.allgs``, ``runtime.allm``, ``runtime.waitReasonStrings``… have
no name left. Their addresses are still written in the machine code that uses them:
on amd64 the runtime reaches a global with a RIP-relative operand, a 32-bit
displacement from the end of the instruction. And the runtime's machine code depends
only on the toolchain (compiler, runtime sources, flags), not on the program: measured
on the six releases of the matrix, every reference recorded from testdata/basic sits at
the same offset, with the same instruction bytes, in testdata/goroutines, maps, panics,
headroom and values, and resolves to the right symbol in each (61-71 references per
release, none wrong; the only misses were in functions a program does not link, such
as runtime/debug.setMaxStack, which the generator does not pick).

So ``scripts/gen_layouts.py`` records, from an unstripped reference build of each
release, for each global a few references in always-linked runtime functions (by name,
which the pclntab of a stripped binary still has): the displacement's offset in the
function, the immediate bytes after it (``adjust``), and a window of code around it
with every relocated field (RIP-relative displacements, call/jump targets) masked.
Here, in a stripped binary:

1. find the function by name in the pclntab, match the window at the recorded offset,
   else search the function for it (a patch release that moved the code a little) and
   take a unique match only;
2. address = end of the displacement + ``adjust`` + displacement;
3. accept only when every matched reference agrees, at least two do (or the only one
   recorded), and the address lies in the section the global lives in
   (``runtime.firstmoduledata`` must also start with the pclntab's own address).

Measured across patch releases too: with the tables of go1.23.9, go1.25.5 and go1.26.6,
all 11 globals are found in go1.23.1, go1.25.0 and go1.26.0 builds (every reference at
its recorded offset but go1.25.0's two buildVersion ones, which the window search found).
Anything else is an ``UnsupportedError`` naming the global, never a guess. Functions
(``runtime.racecall``) come from the pclntab directly. Data scans (string-header arrays,
slices of g pointers) and thread-pointer walks (FS base -> g -> m) were weighed and not
used: they need memory and layouts, and they find candidates, not the global itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from godbg.errors import FaultError, UnsupportedError
from godbg.runtime.layouts_builtin import builtin_globals, release_key, tables

if TYPE_CHECKING:
    from godbg.program.binary import GoBinary
    from godbg.program.target import Target

# The globals godbg reads: what the generator records for each release.
GLOBAL_NAMES = (
    "runtime.allgs",
    "runtime.allm",
    "runtime.waitReasonStrings",
    "runtime.maxstacksize",
    "runtime.maxstackceiling",
    "runtime.firstmoduledata",
    "runtime.buildVersion",
    "runtime.printBacklog",
    "runtime.printBacklogIndex",
    "runtime.m0",
    "runtime.g0",
    "runtime.memstats",
    "runtime.sched",
)

# x86-64 encoding: a ModRM byte with mod=00 and rm=101 means [RIP + disp32].
MODRM_MASK = 0xC7
MODRM_RIP = 0x05
CALL_REL32 = 0xE8
JMP_REL32 = 0xE9
DISP32 = 4
# Immediates that can follow a RIP-relative displacement (none, imm8, imm32).
ADJUSTS = (0, 1, 4)
# Code recorded around a displacement: bytes before it and after it.
WINDOW_BEFORE = 16
WINDOW_AFTER = 8
MASKED = "??"
# A function longer than this is not searched byte by byte.
MAX_SEARCH = 1 << 16
# How many agreeing references make an address (fewer only when fewer are recorded).
MIN_AGREEING = 2
# Sections a Go global lives in.
DATA_SECTIONS = (".data", ".bss", ".noptrdata", ".noptrbss", ".go.module")


def is_stripped(binary: GoBinary) -> bool:
    """No ELF symbol table: what `-ldflags=-s` (or strip) leaves."""
    return ".symtab" not in binary.sections


def lookup_for(binary: GoBinary) -> Callable[[Target, str], tuple[int, int] | None] | None:
    """What a backend gives its Target to find runtime globals in ``binary``: None when the
    binary has a symbol table."""
    return stripped_symbol if is_stripped(binary) else None


# --- recording (used by scripts/gen_layouts.py) -------------------------------------------


def relocated(code: bytes) -> list[bool]:
    """Which bytes of ``code`` may differ between programs built by one toolchain: the
    displacement after a RIP-relative ModRM byte and the target of a rel32 call or
    jump. A heuristic without a disassembler, so it masks too much rather than too
    little."""
    out = [False] * len(code)
    for i in range(1, len(code)):
        b = code[i - 1]
        if b & MODRM_MASK == MODRM_RIP or b in (CALL_REL32, JMP_REL32):
            for j in range(i, min(i + DISP32, len(code))):
                out[j] = True
    return out


def window(code: bytes, disp_off: int) -> tuple[int, str]:
    """(start relative to the displacement, hex pattern) of the code around it."""
    lo = max(0, disp_off - WINDOW_BEFORE)
    hi = min(len(code), disp_off + DISP32 + WINDOW_AFTER)
    mask = relocated(code)
    parts = []
    for i in range(lo, hi):
        parts.append(MASKED if mask[i] or disp_off <= i < disp_off + DISP32 else f"{code[i]:02x}")
    return lo - disp_off, "".join(parts)


# --- finding ------------------------------------------------------------------------------


def _pattern(hexes: str) -> list[tuple[int, int]]:
    out = []
    for k in range(0, len(hexes), 2):
        h = hexes[k : k + 2]
        if h != MASKED:
            out.append((k // 2, int(h, 16)))
    return out


def _matches(code: bytes, start: int, pattern: list[tuple[int, int]], length: int) -> bool:
    if start < 0 or start + length > len(code):
        return False
    return all(code[start + i] == b for i, b in pattern)


def locate(code: bytes, ref: dict[str, Any]) -> int | None:
    """The displacement's offset in ``code``: at the recorded place, else the one place
    in the function where the recorded window matches."""
    pattern = _pattern(ref["window"])
    length = len(ref["window"]) // 2
    rel = ref["window_start"]
    if _matches(code, ref["offset"] + rel, pattern, length):
        offset: int = ref["offset"]
        return offset
    if len(code) > MAX_SEARCH:
        return None
    found = [s - rel for s in range(len(code) - length + 1) if _matches(code, s, pattern, length)]
    return found[0] if len(found) == 1 else None


def resolve_ref(binary: GoBinary, ref: dict[str, Any]) -> int | None:
    """The address one recorded reference names in this binary, or None."""
    f = binary.pclntab.func_by_name(ref["func"])
    if f is None:
        return None
    try:
        code = binary.read_vaddr(f.entry, f.end - f.entry)
    except FaultError:
        return None
    at = locate(code, ref)
    if at is None:
        return None
    disp = int.from_bytes(code[at : at + DISP32], "little", signed=True)
    address: int = f.entry + at + DISP32 + ref["adjust"] + disp
    return address


def _section_of(binary: GoBinary, address: int) -> str | None:
    for name in DATA_SECTIONS:
        s = binary.sections.get(name)
        if s is not None and s.addr <= address < s.addr + s.size:
            return name
    return None


def _plausible(binary: GoBinary, name: str, entry: dict[str, Any], address: int) -> str | None:
    """Why ``address`` cannot be ``name``, or None."""
    section = _section_of(binary, address)
    want = entry.get("section")
    if section is None or (want in binary.sections and section != want):
        return f"{address:#x} is not in {want or 'a data section'}"
    if name == "runtime.firstmoduledata":
        pcln = binary.pclntab_section
        try:
            first = binary.static_pointer(address)
        except FaultError:
            return f"{address:#x} is not in the binary"
        if pcln is not None and first != pcln.addr:
            return f"the moduledata at {address:#x} does not start with the pclntab's address"
    return None


def find(binary: GoBinary, name: str, entry: dict[str, Any]) -> int:
    """The address of global ``name`` from its recorded references, or UnsupportedError."""
    refs = entry["refs"]
    found = [a for a in (resolve_ref(binary, r) for r in refs) if a is not None]
    where = f"{name} in stripped {binary.path}"
    if not found:
        raise UnsupportedError(f"cannot find {where}: none of the {len(refs)} runtime instructions godbg "
                               "knows that use it match this build")
    if len(set(found)) > 1:
        raise UnsupportedError(f"cannot find {where}: the runtime code that uses it names "
                               f"{len(set(found))} different addresses")
    if len(found) < min(MIN_AGREEING, len(refs)):
        raise UnsupportedError(f"cannot find {where}: only {len(found)} of {len(refs)} known uses match")
    why = _plausible(binary, name, entry, found[0])
    if why:
        raise UnsupportedError(f"cannot find {where}: {why}")
    return found[0]


def stripped_symbol(target: Target, name: str) -> tuple[int, int] | None:
    """(address, size) of a runtime global or function in a binary without a symbol
    table; None when godbg knows nothing by that name (the caller's "no such global")."""
    key = f"globals_stripped:{name}"
    if key in target.cache:
        cached: tuple[int, int] | None = target.cache[key]
        return cached
    binary = target.binary
    result: tuple[int, int] | None = None
    entry = builtin_globals(target).get(name)
    if entry is not None:
        result = (find(binary, name, entry), entry["size"])
    elif name in GLOBAL_NAMES:
        known = ", ".join("go" + k for k in tables().get("releases", {}))
        raise UnsupportedError(f"{name}: {binary.path} has no symbol table, and godbg knows where to find "
                               f"runtime globals only in stripped builds of {known or 'no release'} on amd64, "
                               f"not go{release_key(target)} on {target.goarch}")
    else:
        f = binary.pclntab.func_by_name(name)
        if f is not None:
            result = (f.entry, f.end - f.entry)
    target.cache[key] = result
    return result


# --- what a stripped binary costs, for `info` ---------------------------------------------


def stripped_notes(target: Target) -> list[str]:
    """One line per thing this binary lacks and what godbg does instead; [] for a binary
    with both DWARF and a symbol table."""
    from godbg.runtime.layouts_builtin import release_table

    binary = target.binary
    notes = []
    table = release_table(target)
    if not binary.has_dwarf:
        if table is not None:
            notes.append(f"no DWARF: runtime struct layouts are godbg's built-in ones for go{release_key(target)} "
                         f"(from the {table['source']})")
            built = table["toolchain"]
            if built != binary.buildinfo.go_version:
                notes.append(f"this binary is {binary.buildinfo.go_version}: the built-in layouts were recorded "
                             f"from {built} and are assumed to hold for every go{release_key(target)} release")
        else:
            notes.append(f"no DWARF, and godbg has no built-in runtime layouts for {binary.buildinfo.go_version} "
                         f"on {target.goarch}: goroutine and stack commands cannot work")
        notes.append("no DWARF: maps, panic values of program types and variables cannot be decoded "
                     "(no type information)")
    if is_stripped(binary):
        how = "found through the runtime code that uses them" if table is not None else "not available"
        notes.append(f"no symbol table: runtime globals (allgs, allm, …) {how}")
    return notes
