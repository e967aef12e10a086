"""Ms: their m structs, the OS thread behind each, and the kernel's signal frame on a
thread that took a signal (the registers it interrupted)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import NamedTuple

from godbg.errors import FaultError
from godbg.program.target import Target, Thread
from godbg.runtime.cfi_unwind import dwarf_regs
from godbg.runtime.fieldreader import FieldReader
from godbg.runtime.g import stack_bounds
from godbg.runtime.layouts import layout
from godbg.runtime.unwind import PhysFrame

# The kernel's signal frame (Linux): amd64 rt_sigframe is {pretcode, ucontext, siginfo},
# so the ucontext starts right above sigtramp's return address slot, i.e. at its frame's
# fp; arm64 rt_sigframe is {siginfo (128 bytes), ucontext} at the handler's entry SP.
# ucontext: uc_flags, uc_link, uc_stack (24 bytes), then uc_mcontext on amd64; on arm64
# uc_sigmask and padding first, so uc_mcontext is at 176 (runtime/defs_linux_*.go).
SIGINFO_SIZE_ARM64 = 128
UC_MCONTEXT = {"amd64": 40, "arm64": 176}
# amd64 sigcontext: r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip.
SIGCTX_AMD64 = {"bp": 80, "sp": 120, "pc": 128}
# arm64 sigcontext: fault_address, regs[31] (x29 = fp, x30 = lr), sp, pc.
SIGCTX_ARM64 = {"fp": 8 + 8 * 29, "lr": 8 + 8 * 30, "sp": 8 + 8 * 31, "pc": 8 + 8 * 32}
# Every general register of the sigcontext, in order (for unwinding C code by its CFI).
SIGCTX_REGS = {
    "amd64": "r8 r9 r10 r11 r12 r13 r14 r15 rdi rsi rbp rbx rdx rax rcx rsp rip".split(),
    "arm64": [f"x{i}" for i in range(31)] + ["sp", "pc"],
}
SIGCTX_REGS_OFFSET = {"amd64": 0, "arm64": 8}
# The kernel's struct ucontext on amd64 (flags, link, stack, sigcontext, sigmask): the
# rt_sigframe's siginfo follows it. On arm64 the siginfo comes first (SIGINFO_SIZE_ARM64).
UCONTEXT_SIZE_AMD64 = 304
SIGTRAMP_FUNCS = ("runtime.sigtramp", "runtime.cgoSigtramp")
# Nested signals are possible (a fault in a handler): follow at most this many.
MAX_SIGNAL_DEPTH = 4
M_FIELDS = {
    "g0": ("g0", "Q"),
    "gsignal": ("gsignal", "Q"),
    "curg": ("curg", "Q"),
    "procid": ("procid", "Q"),
    "id": ("id", "q"),
    "vdso_sp": ("vdsoSP", "Q"),
    "vdso_pc": ("vdsoPC", "Q"),
    "alllink": ("alllink", "Q"),
    "lockedg": ("lockedg", "Q"),
    "throwing": ("throwing", "i"),
}


class M(NamedTuple):
    addr: int
    id: int
    procid: int
    g0: int
    gsignal: int
    curg: int
    vdso_sp: int
    vdso_pc: int
    lockedg: int
    throwing: int


def _m_reader(target: Target) -> FieldReader:
    return target.memo("stacks:m_reader", lambda: FieldReader(layout(target, "runtime.m"), M_FIELDS, {}))


def read_m(target: Target, addr: int) -> M:
    key = f"m:{addr:#x}"
    found = target.cache.get(key)
    if found is None:
        reader = _m_reader(target)
        values = reader.decode(target.memory.read(addr, reader.size))
        values.pop("alllink", None)
        found = M(addr=addr, **values)
        target.cache[key] = found
    return found


def all_ms(target: Target) -> list[M]:
    from godbg.runtime.allgs import allm

    return target.memo("stacks:ms", lambda: [read_m(target, a) for a in allm(target)])


def m_by_addr(target: Target, addr: int) -> M | None:
    if not addr:
        return None
    for m in all_ms(target):
        if m.addr == addr:
            return m
    try:
        return read_m(target, addr)
    except FaultError:
        return None


def thread_of(target: Target, m: M | None) -> Thread | None:
    """The OS thread of an M: m.procid is the Linux thread id (the core's NT_PRSTATUS pid).
    minit sets procid after it installs the signal stack, so an M that took a signal in
    between (a new thread picked for a process-wide SIGQUIT) has none: then the thread is
    the one, claimed by no other M, whose sp lies on this M's gsignal or g0 stack."""
    if m is None:
        return None
    threads = target.memo("stacks:threads_by_tid", lambda: {t.tid: t for t in target.threads()})
    if m.procid:
        return threads.get(m.procid)
    return target.memo(f"stacks:thread_by_sp:{m.addr:#x}", lambda: _thread_by_stack(target, m, threads))


def _thread_by_stack(target: Target, m: M, threads: dict[int, Thread]) -> Thread | None:
    claimed = {x.procid for x in all_ms(target) if x.procid}
    bounds = [b for b in (stack_bounds(target, m.gsignal), stack_bounds(target, m.g0)) if b[0] < b[1]]
    for tid, t in threads.items():
        if tid not in claimed and any(lo <= t.sp < hi for lo, hi in bounds):
            return t
    return None


# --- signal frames -------------------------------------------------------------------


@dataclass(frozen=True)
class Regs:
    pc: int
    sp: int
    fp: int = 0
    lr: int = 0


def thread_regs(thread: Thread) -> Regs:
    return Regs(thread.pc, thread.sp, thread.fp, thread.lr or 0)


def ucontext_address(target: Target, sigtramp: PhysFrame) -> int:
    return sigtramp.fp + (SIGINFO_SIZE_ARM64 if target.goarch == "arm64" else 0)


def siginfo_address(target: Target, sigtramp: PhysFrame) -> int:
    if target.goarch == "arm64":
        return sigtramp.fp
    return sigtramp.fp + UCONTEXT_SIZE_AMD64


def signal_registers(target: Target, sigtramp: PhysFrame) -> dict[int, int] | None:
    """Every general register the kernel saved for the signal ``sigtramp`` handles, by
    DWARF number."""
    arch = target.goarch
    names = SIGCTX_REGS[arch]
    base = ucontext_address(target, sigtramp) + UC_MCONTEXT[arch] + SIGCTX_REGS_OFFSET[arch]
    try:
        raw = target.memory.read(base, 8 * len(names))
    except FaultError:
        return None
    return dwarf_regs(arch, dict(zip(names, struct.unpack_from(f"<{len(names)}Q", raw))))


def signal_context(target: Target, sigtramp: PhysFrame) -> Regs | None:
    """The registers the kernel saved when the signal that ``sigtramp`` handles arrived."""
    arch = target.goarch
    mc = ucontext_address(target, sigtramp) + UC_MCONTEXT[arch]
    try:
        if arch == "arm64":
            r = SIGCTX_ARM64
            return Regs(target.memory.u64(mc + r["pc"]), target.memory.u64(mc + r["sp"]),
                        target.memory.u64(mc + r["fp"]), target.memory.u64(mc + r["lr"]))
        r = SIGCTX_AMD64
        return Regs(target.memory.u64(mc + r["pc"]), target.memory.u64(mc + r["sp"]), target.memory.u64(mc + r["bp"]))
    except FaultError:
        return None
