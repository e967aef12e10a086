"""The signal that started a crash, as Go saw it, and whether a core is a snapshot.

Facts from runtime/signal_unix.go (sighandler, dieFromSignal, crash) and
runtime/panic.go (dopanic_m), Go 1.22-1.27, checked on real cores:
- A signal Go cannot turn into a panic (a fault in C code, SIGQUIT, a fault on g0)
  is handled on the M's gsignal stack: sighandler prints "SIGSEGV: segmentation
  violation", "PC=… m=N sigcode=N addr=…", "signal arrived during cgo execution"
  (when ``m.incgo`` and the signal interrupted g0 with a curg), and with
  GOTRACEBACK=crash re-raises SIGABRT from inside the handler (dieFromSignal), so the
  core's dumping thread is still inside that first handler: its outermost signal
  frame (``runtime.sigtramp``, with the kernel's siginfo and ucontext beside it)
  holds the signal. A cgo binary also routes the SIGABRT through the handler
  (sigfwdgo), a nested frame that is Go's own and not the cause.
- A fault in Go code becomes a panic (sigpanic): the handler has returned by the time
  the program dies, but it left the signal in the goroutine (``g.sig``, ``sigcode0``,
  ``sigcode1`` the address, ``sigpc``), which dopanic_m prints as
  "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x…]".
- The text after "SIGxxx: " is the runtime's own ``runtime.sigtable[sig].name``.
"""

from __future__ import annotations

import signal as _signal
import struct

from godbg.errors import FaultError, GodbgError
from godbg.program.pclntab import print_name
from godbg.program.target import Target
from godbg.results.info import SOURCE_FRAME, SOURCE_G, FatalSignal
from godbg.runtime.cfi_unwind import describe_pc
from godbg.runtime.g import read_g
from godbg.runtime.layouts import layout
from godbg.runtime.m import M, all_ms, siginfo_address, signal_context, thread_of
from godbg.runtime.stack import thread_view
from godbg.runtime.unwind import unwinder

# siginfo_t (Linux, 64-bit): si_signo, si_errno, si_code (int32 each), pad, then the
# union whose first word is si_addr for faults.
SI_SIGNO, SI_CODE, SI_ADDR = 0, 8, 16
# Signals whose PC line Go prints with " addr=" (the fault address).
FAULT_ADDR_SIGNALS = ("SIGSEGV", "SIGBUS")
# dieFromSignal raises SIGABRT from these: a signal frame interrupted there is Go's own
# way of dying, not what started it.
SELF_RAISE_FUNCS = ("runtime.raise", "runtime.raiseproc")
# The stop signals of a debugger's snapshot (gcore of a stopped or attached process).
SNAPSHOT_SIGNALS = ("SIGSTOP", "SIGTRAP", "SIGINT", "SIGTSTP", "SIGCONT")
# runtime.sigTabT is {flags int32; name string} in every release 1.22-1.27 (runtime2.go).
SIGTAB_SIZE, SIGTAB_NAME = 24, 8
MAX_SIGNO = 64

def signal_name(signo: int) -> str:
    try:
        return _signal.Signals(signo).name
    except ValueError:
        return f"signal {signo}"


def go_signal_description(target: Target, signo: int) -> str:
    """runtime.sigtable[signo].name, read from the binary ("SIGSEGV: segmentation
    violation"); the signal's name when the table cannot be read."""
    fallback = signal_name(signo)
    if not 0 < signo <= MAX_SIGNO or not target.has_symbol("runtime.sigtable"):
        return fallback
    try:
        base = target.symbol_address("runtime.sigtable")
        data, length = struct.unpack("<QQ", target.memory.read(base + signo * SIGTAB_SIZE + SIGTAB_NAME, 16))
        text = target.memory.string_at(data, length, 256)
    except (GodbgError, struct.error):
        return fallback
    return text or fallback


def function_at(target: Target, pc: int) -> str | None:
    f = unwinder(target).find_func(pc)
    if f is not None:
        return print_name(f.name)
    try:
        return describe_pc(target, pc)[0]
    except (GodbgError, OSError):
        return None


def _m_incgo(target: Target, m: M) -> bool:
    lay = layout(target, "runtime.m")
    if not lay.has("incgo"):
        return False
    try:
        return target.memory.read(m.addr + lay.off("incgo"), 1) != b"\0"
    except FaultError:
        return False


def _from_signal_frame(target: Target, m: M) -> FatalSignal | None:
    thread = thread_of(target, m)
    if thread is None:
        return None
    view = thread_view(target, m, thread)
    if not view.signal_frames:
        return None
    first = view.signal_frames[-1]  # the outermost handler: the first signal
    regs = signal_context(target, first)
    if regs is None:
        return None
    try:
        raw = target.memory.read(siginfo_address(target, first), SI_ADDR + 8)
    except FaultError:
        return None
    signo, code = struct.unpack_from("<ii", raw, SI_SIGNO)[0], struct.unpack_from("<i", raw, SI_CODE)[0]
    addr = struct.unpack_from("<Q", raw, SI_ADDR)[0]
    function = function_at(target, regs.pc)
    name = signal_name(signo)
    if name == "SIGABRT" and function in SELF_RAISE_FUNCS:
        return None
    curg = None
    if m.curg:
        try:
            curg = read_g(target, m.curg).goid
        except FaultError:
            curg = None
    in_cgo = bool(m.curg) and view.stack == "g0" and _m_incgo(target, m)
    return FatalSignal(name, signo, go_signal_description(target, signo), code,
                       addr if name in FAULT_ADDR_SIGNALS else None, regs.pc, function, in_cgo, m.id, curg,
                       SOURCE_FRAME)


def _from_goroutine(target: Target, ms: list[M]) -> FatalSignal | None:
    """g.sig of the goroutine dopanic_m prints: the curg of the M that is dying, which is
    throwing or running a panicking goroutine (only Ms are looked at: a core of 100,000
    goroutines costs no more than one of ten)."""
    lay = layout(target, "runtime.g")
    if not all(lay.has(f) for f in ("sig", "sigcode0", "sigcode1", "sigpc", "_panic")):
        return None
    for m in ms:
        if not m.curg:
            continue
        try:
            if m.throwing <= 0 and not target.memory.u64(m.curg + lay.off("_panic")):
                continue
            sig = struct.unpack("<I", target.memory.read(m.curg + lay.off("sig"), 4))[0]
            if not sig:
                continue
            code0, code1, pc = (target.memory.u64(m.curg + lay.off(f)) for f in ("sigcode0", "sigcode1", "sigpc"))
            g = read_g(target, m.curg)
        except FaultError:
            continue
        code = code0 - (1 << 64) if code0 >= 1 << 63 else code0
        return FatalSignal(signal_name(sig), sig, go_signal_description(target, sig), code, code1, pc,
                           function_at(target, pc), False, m.id, g.goid, SOURCE_G)
    return None


def fatal_signal(target: Target) -> FatalSignal | None:
    """The signal that started the crash: the first signal frame on the gsignal stack of
    the dying thread's M (or of an M that is throwing), else the signal a panicking
    goroutine recorded; None for a crash no signal started, and for a live target."""

    def compute() -> FatalSignal | None:
        ms = all_ms(target)
        crash = [m for m in ms if target.crash_thread is not None and m.procid == target.crash_thread]
        throwing = [m for m in ms if m.throwing > 0 and m not in crash]
        for m in crash + throwing:
            found = _from_signal_frame(target, m)
            if found is not None:
                return found
        return _from_goroutine(target, crash + throwing + [m for m in ms if m not in crash and m not in throwing])

    return target.memo("signals:fatal", compute)


def is_snapshot(target: Target) -> bool:
    """A core a debugger took of a process that had not crashed (gcore): stopped by a
    debugger's signal, no signal being handled, no M throwing."""
    if target.kind != "core":
        return False
    sig = target.signal.name if target.signal is not None else None
    if sig is not None and sig not in SNAPSHOT_SIGNALS:
        return False
    if fatal_signal(target) is not None:
        return False
    return not any(m.throwing > 0 for m in all_ms(target))
