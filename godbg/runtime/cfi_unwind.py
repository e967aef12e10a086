"""Unwinding through native (C) frames: a thread interrupted inside C code (a cgo call,
or a signal that arrived there) has frames the pclntab knows nothing of. They are
walked with the DWARF CFI of the ELF file holding each pc (the executable's C code, or a
shared library from the core's NT_FILE note), falling back to the frame-pointer chain
where no CFI covers a pc, until a return address lands in Go code (for a cgo call,
``runtime.asmcgocall``), where the Go unwinder takes over.

Registers are tracked by DWARF number (see godbg.program.cfi); ``PC`` is a pseudo number
for the program counter."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from godbg.errors import FaultError
from godbg.program.cfi import FrameRules
from godbg.program.native import Mapping as FileMapping
from godbg.program.native import NativeCode, NativeImage
from godbg.program.target import Target
from godbg.runtime.unwind import Frame, WordReader, unwinder

PC = -1
# DWARF register numbers (System V psABI for amd64, AAPCS64 DWARF for arm64).
DWARF_REGS = {
    "amd64": {"rax": 0, "rdx": 1, "rcx": 2, "rbx": 3, "rsi": 4, "rdi": 5, "rbp": 6, "rsp": 7,
              **{f"r{i}": i for i in range(8, 16)}, "rip": PC},
    "arm64": {**{f"x{i}": i for i in range(31)}, "sp": 31, "pc": PC},
}
SP_REG = {"amd64": 7, "arm64": 31}
FP_REG = {"amd64": 6, "arm64": 29}
# Registers a callee preserves (and a CFI row may leave unmentioned): their values
# carry over to the caller; every other register is unknown there.
CALLEE_SAVED = {"amd64": (3, 6, 12, 13, 14, 15), "arm64": tuple(range(19, 31))}
# Bounds: a C stack deeper than this is corrupt or a loop.
MAX_NATIVE_FRAMES = 256
# A frame-pointer walk trusts a saved frame pointer no further than this above sp.
MAX_FP_FRAME = 1 << 20
PTR_SIZE = 8

METHOD_CFI = "cfi"
METHOD_FP = "frame pointer"


@dataclass(frozen=True)
class NativeFrame:
    """One C frame: ``pc`` the interrupted pc (innermost) or the return address,
    ``sp`` its stack pointer, ``cfa`` the caller's SP."""

    pc: int
    sp: int
    cfa: int
    trap: bool
    function: str | None
    file: str
    line: int
    entry: int
    object: str  # the ELF file's name ("" when no mapping is known)
    method: str  # how the caller was found: "cfi", "frame pointer", "" for the last frame

    def logical(self, stack: str) -> Frame:
        return Frame(self.function or "??", self.file, self.line, self.pc, self.sp, self.cfa, False,
                     self.entry, -1, stack, self.object or "?")


@dataclass(frozen=True)
class NativeWalk:
    frames: list[NativeFrame]
    stop: str  # "go" (reached Go code), "top", "no-unwind-info", "bounds", "fault", "limit"
    go_pc: int = 0  # where Go code resumes (stop "go"): its pc, sp, frame pointer
    go_sp: int = 0
    go_fp: int = 0
    go_lr: int = 0


def dwarf_regs(goarch: str, named: Mapping[str, int]) -> dict[int, int]:
    """A thread's named registers (``rip``, ``rsp``…) by DWARF number."""
    table = DWARF_REGS[goarch]
    return {table[n]: v for n, v in named.items() if n in table}


def native_code(target: Target) -> NativeCode:
    """The process's native code: the executable, and the files of the core's NT_FILE
    note (no mappings from a live backend: only the executable's own C code)."""

    def compute() -> NativeCode:
        binary = target.binary
        bias = int(getattr(target, "load_bias", 0) or 0)
        # Go's own functions are named by the pclntab; C ones by the symbol table GoBinary
        # already read (gcc's "f.localalias" twins lose to "f").
        exe = NativeImage(binary.path, bias, binary.elf, known_funcs=lambda: [
            (s.addr, s.size, s.name) for s in binary.symbols.values() if s.kind == "func"])
        text = [s for s in binary.segments if s.flags & 1]  # PF_X
        lo = min((s.vaddr for s in text), default=0) + bias
        hi = max((s.vaddr + s.memsz for s in text), default=0) + bias
        files = getattr(target.backend, "files", None) or []
        exe_real = os.path.realpath(binary.path)
        maps = []
        for start, end, offset, path in files:
            if os.path.basename(path) == os.path.basename(binary.path) or os.path.realpath(path) == exe_real:
                continue
            maps.append(FileMapping(start, end, offset, path))
        return NativeCode(exe, (lo, hi), maps, target.memory.read)

    return target.memo("native_code", compute)


def describe_pc(target: Target, pc: int, trap: bool = True) -> tuple[str | None, int, str]:
    """(function name, entry, object file) of a native pc, from ELF symbols."""
    code = native_code(target)
    look = pc if trap else pc - 1
    image = code.image_at(look)
    if image is None:
        return None, 0, code.library_name(look) or ""
    found = image.symbol(look)
    name, entry = found if found is not None else (None, 0)
    return name, entry, os.path.basename(image.path)


def walk_native(target: Target, regs: dict[int, int], trap: bool, lo: int, hi: int) -> NativeWalk:
    """C frames from ``regs`` outwards until Go code, staying within [lo, hi). What could
    not be read as it should (a library missing here, frames found by frame pointers)
    becomes a warning."""
    walk = _walk_native(target, regs, trap, lo, hi)
    for note in native_code(target).notes:
        target.warn(note)
    for f in walk.frames:
        if f.method == METHOD_FP:
            target.warn(f"no CFI for {f.function or hex(f.pc)} in {f.object or 'unmapped code'}: "
                        "its caller was found by the frame-pointer chain")
    return walk


def _walk_native(target: Target, regs: dict[int, int], trap: bool, lo: int, hi: int) -> NativeWalk:
    arch = target.goarch
    sp_reg, fp_reg = SP_REG[arch], FP_REG[arch]
    u = unwinder(target)
    code = native_code(target)
    mem = target.memory
    frames: list[NativeFrame] = []
    regs = dict(regs)
    for _ in range(MAX_NATIVE_FRAMES):
        pc, sp = regs.get(PC, 0), regs.get(sp_reg, 0)
        if not pc:
            return NativeWalk(frames, "top")
        if u.find_func(pc) is not None:
            return NativeWalk(frames, "go", pc, sp, regs.get(fp_reg, 0), regs.get(30, 0) if arch == "arm64" else 0)
        if not lo <= sp < hi:
            return NativeWalk(frames, "bounds")
        look = pc if trap else pc - 1
        image = code.image_at(look)
        name, entry, obj = describe_pc(target, pc, trap)
        file, line = "", 0
        if image is not None:
            found = image.line(look)
            if found is not None:
                file, line = found
        rules = image.cfi.rules_at(look - image.bias) if image is not None else None
        try:
            if rules is not None and rules.cfa_reg is not None and rules.cfa_reg in regs:
                caller, method = _by_cfi(arch, regs, rules, mem.u64), METHOD_CFI
            else:
                caller, method = _by_frame_pointer(regs, sp_reg, fp_reg, mem.u64), METHOD_FP
        except FaultError:
            frames.append(NativeFrame(pc, sp, 0, trap, name, file, line, entry, obj, ""))
            return NativeWalk(frames, "fault")
        if caller is None:
            frames.append(NativeFrame(pc, sp, 0, trap, name, file, line, entry, obj, ""))
            return NativeWalk(frames, "top" if rules is not None else "no-unwind-info")
        frames.append(NativeFrame(pc, sp, caller[sp_reg], trap, name, file, line, entry, obj, method))
        if caller[sp_reg] <= sp:
            return NativeWalk(frames, "bounds")
        regs, trap = caller, False
    return NativeWalk(frames, "limit")


def _by_cfi(arch: str, regs: dict[int, int], rules: FrameRules, u64: WordReader) -> dict[int, int] | None:
    assert rules.cfa_reg is not None
    cfa = regs[rules.cfa_reg] + rules.cfa_offset
    out = {r: v for r, v in regs.items() if r in CALLEE_SAVED[arch]}
    for reg, rule in rules.regs.items():
        if rule.kind == "offset":
            out[reg] = u64(cfa + rule.arg)
        elif rule.kind == "val_offset":
            out[reg] = cfa + rule.arg
        elif rule.kind == "register" and rule.arg in regs:
            out[reg] = regs[rule.arg]
        elif rule.kind == "same" and reg in regs:
            out[reg] = regs[reg]
        elif rule.kind == "undefined":
            out.pop(reg, None)
    ra_rule = rules.regs.get(rules.ra_reg)
    if ra_rule is not None and ra_rule.kind == "undefined":
        return None  # the outermost frame (_start, clone)
    ra = out.get(rules.ra_reg) if ra_rule is not None else regs.get(rules.ra_reg)
    if not ra:
        return None
    if arch == "amd64":
        out.pop(rules.ra_reg, None)  # the return address column is no register there
    out[SP_REG[arch]] = cfa
    out[PC] = ra
    return out


def _by_frame_pointer(regs: dict[int, int], sp_reg: int, fp_reg: int, u64: WordReader) -> dict[int, int] | None:
    """The classic chain: [fp] is the caller's fp, [fp+8] the return address."""
    sp, fp = regs.get(sp_reg, 0), regs.get(fp_reg, 0)
    if not fp or not sp <= fp < sp + MAX_FP_FRAME or fp % PTR_SIZE:
        return None
    ra = u64(fp + PTR_SIZE)
    if not ra:
        return None
    return {PC: ra, sp_reg: fp + 2 * PTR_SIZE, fp_reg: u64(fp)}
