"""Goroutine and M state for stack walks: g and m structs decoded in bulk, the OS
thread behind each M, signal frames, and where each goroutine's unwinding starts.

Where a goroutine's stack walk starts follows runtime/traceback.go (traceback1 and
unwinder.initAt, Go 1.22-1.27):
- status syscall: g.syscallpc / g.syscallsp (Go overrides whatever else it has);
- m.vdsoSP set: the M is inside a vDSO call, start at m.vdsoPC / m.vdsoSP;
- running on a thread the target has registers for: the registers. When they sit on the
  M's gsignal stack (a GOTRACEBACK=crash core dies in the signal handler) the walk goes
  through the handler to ``runtime.sigtramp`` and takes the interrupted registers from
  the kernel's ``ucontext`` beside it; on g0 (systemstack) the system frames come first,
  then the goroutine's own stack from g.sched as systemstack saved it;
- otherwise g.sched (pc, sp, lr) as gopark/mcall/gosave saved it.
"""

from __future__ import annotations

import operator
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

from godbg.errors import FaultError, GodbgError, UnsupportedError
from godbg.program.target import Target, Thread
from godbg.runtime.cfi_unwind import NativeFrame, dwarf_regs, walk_native
from godbg.runtime.layouts import StructLayout, layout
from godbg.runtime.unwind import Frame, PhysFrame, StackWindow, Start, Unwinder, Walk, read_uncached, unwinder

# runtime/runtime2.go status values (stable 1.22-1.27); names are read from DWARF when
# it has them, these are the fallback.
G_IDLE, G_RUNNABLE, G_RUNNING, G_SYSCALL, G_WAITING = 0, 1, 2, 3, 4
G_DEAD, G_COPYSTACK, G_PREEMPTED, G_LEAKED, G_DEADEXTRA = 6, 8, 9, 10, 11
G_SCAN = 0x1000
FALLBACK_STATUS_NAMES = {
    0: "idle", 1: "runnable", 2: "running", 3: "syscall", 4: "waiting", 5: "moribund", 6: "dead",
    7: "enqueue", 8: "copystack", 9: "preempted", 10: "leaked", 11: "deadextra",
}
DEAD_STATUSES = (G_DEAD, G_DEADEXTRA)
# Bulk g reads: neighbours closer than BULK_GAP bytes share one read of at most BULK_READ.
BULK_GAP = 4096
BULK_READ = 1 << 20

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
# How far a thread's stack is read when its bounds are unknown.
UNKNOWN_STACK_SPAN = 1 << 16
# How far C frames may reach on a stack of unknown bounds.
NATIVE_STACK_SPAN = 8 << 20
# How far above g0.stack.hi mstart's frame may lie (see m_system_frames).
G0_TOP_SLACK = 4096

# Fields of runtime.g the engine reads: alias -> (dotted path, struct format).
G_FIELDS = {
    "lo": ("stack.lo", "Q"),
    "hi": ("stack.hi", "Q"),
    "stackguard0": ("stackguard0", "Q"),
    "m": ("m", "Q"),
    "sched_sp": ("sched.sp", "Q"),
    "sched_pc": ("sched.pc", "Q"),
    "sched_lr": ("sched.lr", "Q"),
    "sched_bp": ("sched.bp", "Q"),
    "syscallsp": ("syscallsp", "Q"),
    "syscallpc": ("syscallpc", "Q"),
    "status": ("atomicstatus.value", "I"),
    "goid": ("goid", "Q"),
    "waitsince": ("waitsince", "q"),
    "waitreason": ("waitreason", "B"),
    "lockedm": ("lockedm", "Q"),
    "parent_goid": ("parentGoid", "Q"),
    "gopc": ("gopc", "Q"),
    "startpc": ("startpc", "Q"),
}
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


class FieldReader:
    """Decodes the chosen fields of a struct with one ``struct.unpack_from`` per
    instance. A field this release lacks (under its name or its fallback's) is an
    UnsupportedError naming it, never a silent 0."""

    def __init__(self, lay: StructLayout, spec: dict[str, tuple[str, str]], fallbacks: dict[str, str]) -> None:
        present: list[tuple[int, str, str]] = []
        missing: list[str] = []
        for alias, (path, fmt) in spec.items():
            if not lay.has(path) and alias in fallbacks and lay.has(fallbacks[alias]):
                path = fallbacks[alias]
            if lay.has(path):
                present.append((lay.off(path), alias, fmt))
            else:
                missing.append(path)
        if missing:
            raise UnsupportedError(f"{lay.name} has no field {', '.join(map(repr, missing))} in this Go release; "
                                   "godbg cannot read it")
        present.sort()
        fmt = "<"
        pos = 0
        self.names: list[str] = []
        for off, alias, code in present:
            if off < pos:
                continue  # overlapping paths (a struct and its first field): keep the first
            if off > pos:
                fmt += f"{off - pos}x"
            fmt += code
            pos = off + struct.calcsize("<" + code)
            self.names.append(alias)
        self.struct = struct.Struct(fmt)
        self.size = self.struct.size

    def getter(self, names: tuple[str, ...]) -> Callable[[bytes, int], tuple[int, ...]]:
        """A decoder straight to a tuple of ``names`` in that order."""
        index = [self.names.index(n) for n in names]
        pick = operator.itemgetter(*index)
        unpack = self.struct.unpack_from

        def decode(data: bytes, offset: int = 0) -> tuple[int, ...]:
            fields: tuple[int, ...] = pick(unpack(data, offset))
            return fields

        return decode

    def decode(self, data: bytes, offset: int = 0) -> dict[str, int]:
        return dict(zip(self.names, self.struct.unpack_from(data, offset)))


class G(NamedTuple):
    addr: int
    goid: int
    status: int  # raw atomicstatus, scan bit included
    lo: int
    hi: int
    stackguard0: int
    m: int
    sched_sp: int
    sched_pc: int
    sched_lr: int
    sched_bp: int
    syscallsp: int
    syscallpc: int
    waitsince: int
    waitreason: int
    lockedm: int
    parent_goid: int
    gopc: int
    startpc: int

    @property
    def base_status(self) -> int:
        return self.status & ~G_SCAN

    @property
    def dead(self) -> bool:
        return self.base_status in DEAD_STATUSES


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


def _g_reader(target: Target) -> FieldReader:
    return target.memo("stacks:g_reader", lambda: FieldReader(
        layout(target, "runtime.g"), G_FIELDS, {"status": "atomicstatus"}))


def _g_decoder(target: Target) -> Callable[[bytes, int], tuple[int, ...]]:
    """bytes of a g -> the G fields after addr."""
    return target.memo("stacks:g_decoder", lambda: _g_reader(target).getter(G._fields[1:]))


def _m_reader(target: Target) -> FieldReader:
    return target.memo("stacks:m_reader", lambda: FieldReader(layout(target, "runtime.m"), M_FIELDS, {}))


def read_g(target: Target, addr: int) -> G:
    """One g, memoized per stop."""
    key = ("g", addr)
    found: G | None = target.cache.get(key)
    if found is None:
        reader = _g_reader(target)
        found = G(addr, *_g_decoder(target)(target.memory.read(addr, reader.size), 0))
        target.cache[key] = found
    return found


def read_gs(target: Target, addrs: Sequence[int], keep: bool = True) -> list[G | None]:
    """Many gs, read in bulk: gs are heap objects of one size class, mostly side by side,
    so neighbours come in one read. None for a g whose memory is not in the target.
    ``keep=False`` leaves them out of the per-stop cache (a listing that streams a
    million goroutines reads each once)."""
    size = _g_reader(target).size
    decode = _g_decoder(target)
    cache: dict[Any, Any] = target.cache
    found: dict[int, G | None] = {}
    todo = sorted({a for a in addrs if ("g", a) not in cache})
    make = G
    i = 0
    while i < len(todo):
        j = i + 1
        while (j < len(todo) and todo[j] - todo[j - 1] <= BULK_GAP
               and todo[j] + size - todo[i] <= BULK_READ):
            j += 1
        base = todo[i]
        try:
            blob = read_uncached(target, base, todo[j - 1] + size - base)
        except FaultError:
            blob = None
        if blob is not None:
            for a in todo[i:j]:
                g = make(a, *decode(blob, a - base))
                if keep:
                    cache[("g", a)] = g
                found[a] = g
        else:
            for a in todo[i:j]:
                try:
                    found[a] = read_g(target, a)
                except FaultError:
                    found[a] = None
        i = j
    return [found[a] if a in found else cache.get(("g", a)) for a in addrs]


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


def stack_bounds(target: Target, g_addr: int) -> tuple[int, int]:
    if not g_addr:
        return 0, 0
    try:
        g = read_g(target, g_addr)
    except FaultError:
        return 0, 0
    return g.lo, g.hi


# --- status and wait reason names ------------------------------------------------------


def status_names(target: Target) -> dict[int, str]:
    """Status value -> name, from the binary's DWARF constants (`runtime._Gwaiting`…):
    the name without `_G`, lower case; names ending in `_unused` lose the suffix."""

    def compute() -> dict[int, str]:
        names = dict(FALLBACK_STATUS_NAMES)
        if target.binary.has_dwarf:
            try:
                consts = target.binary.dwarf.constants("runtime._G")
            except GodbgError:
                consts = {}
            for name, value in consts.items():
                short = name[len("runtime._G"):]
                # Statuses are all lower case (_Gwaiting, _Gmoribund_unused); _GCoff and
                # _GoidCacheBatch share the prefix but are not.
                if not short or short != short.lower() or short.startswith("scan") or value >= G_SCAN:
                    continue
                names[value] = short.lower().removesuffix("_unused")
        return names

    return target.memo("stacks:status_names", compute)


def status_name(target: Target, status: int) -> str:
    base = status_names(target).get(status & ~G_SCAN, f"status {status & ~G_SCAN}")
    return base + "+scan" if status & G_SCAN else base


def wait_reasons(target: Target) -> list[str]:
    """runtime.waitReasonStrings, read from memory: the runtime's own names, numbered
    as this release numbers them."""

    def compute() -> list[str]:
        try:
            base = target.symbol_address("runtime.waitReasonStrings")
        except GodbgError:
            return []
        # Symbol table, DWARF, or built-in facts for a stripped binary.
        count = (target.symbol_size("runtime.waitReasonStrings") or 0) // 16
        if not count or count > 1024:
            return []
        raw = target.memory.read(base, 16 * count)
        out = []
        for i in range(count):
            data, length = struct.unpack_from("<QQ", raw, 16 * i)
            try:
                out.append(target.memory.string_at(data, length, 256))
            except FaultError:
                out.append(f"wait reason {i}")
        return out

    return target.memo("stacks:wait_reasons", compute)


def wait_reason(target: Target, g: G) -> str | None:
    """Go prints the wait reason for waiting (and leaked) goroutines with a nonzero one."""
    if g.base_status not in (G_WAITING, G_LEAKED) or not g.waitreason:
        return None
    names = wait_reasons(target)
    return names[g.waitreason] if g.waitreason < len(names) else f"wait reason {g.waitreason}"


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


@dataclass
class Segment:
    """A stretch of frames on one stack: "gsignal", "g0" or "g" (a goroutine's own)."""

    stack: str
    walk: Walk


@dataclass
class ThreadView:
    """What a thread is doing: system-stack segments from its registers outwards (through
    signal handlers), and the registers it ends with on the first non-signal stack."""

    segments: list[Segment] = field(default_factory=list)
    regs: Regs | None = None  # the innermost registers outside any signal handler
    stack: str = ""  # where ``regs`` point: "g0", "g" (curg's stack), or "" (unknown)
    in_signal: bool = False
    # the sigtramp frame of each signal handler the thread is in, innermost first
    signal_frames: list[PhysFrame] = field(default_factory=list)
    # ``regs`` in full, by DWARF register number (for C code's CFI)
    all_regs: dict[int, int] | None = None


def _classify(sp: int, bounds: dict[str, tuple[int, int]]) -> str:
    for name, (lo, hi) in bounds.items():
        if lo <= sp < hi:
            return name
    return ""


def thread_view(target: Target, m: M, thread: Thread) -> ThreadView:
    """Follow a thread's registers out of signal handlers; cached per stop."""
    key = f"stacks:thread_view:{m.addr:#x}"
    found: ThreadView | None = target.cache.get(key)
    if found is not None:
        return found
    u = unwinder(target)
    bounds = {"gsignal": stack_bounds(target, m.gsignal), "g0": stack_bounds(target, m.g0),
              "g": stack_bounds(target, m.curg)}
    view = ThreadView()
    regs: Regs | None = thread_regs(thread)
    view.all_regs = dwarf_regs(target.goarch, thread.regs)
    for _depth in range(MAX_SIGNAL_DEPTH):
        assert regs is not None
        where = _classify(regs.sp, bounds)
        if where != "gsignal":
            break
        lo, hi = bounds["gsignal"]
        walk = u.walk(Start(regs.pc, regs.sp, regs.lr, regs.fp, trap=True, source="thread"),
                      StackWindow(target, regs.sp, hi), lo=lo, hi=hi)
        view.segments.append(Segment("gsignal", walk))
        view.in_signal = True
        last = walk.frames[-1] if walk.frames else None
        if last is None or last.func.name not in SIGTRAMP_FUNCS:
            regs = None
            view.all_regs = None
            break
        view.signal_frames.append(last)
        regs = signal_context(target, last)
        view.all_regs = signal_registers(target, last)
        if regs is None:
            break
    view.regs = regs
    view.stack = _classify(regs.sp, bounds) if regs is not None else ""
    target.cache[key] = view
    return view


# --- goroutine stacks ------------------------------------------------------------------


@dataclass
class GoroutineStack:
    """A goroutine's frames: ``system`` frames it runs on g0/gsignal (innermost first),
    then its own. ``sp`` is where its own stack's live part starts."""

    g: G
    start: Start | None
    frames: list[PhysFrame]
    system: list[tuple[str, PhysFrame]]
    stop: str
    sp: int | None
    m: M | None = None
    thread: Thread | None = None
    notes: list[str] = field(default_factory=list)

    def logical(self, u: Unwinder) -> list[Frame]:
        out: list[Frame] = []
        for stack, pf in self.system:
            out.extend(u.logical(pf, stack))
        for pf in self.frames:
            out.extend(u.logical(pf))
        return out


def goroutine_start(target: Target, g: G) -> tuple[Start | None, list[tuple[str, PhysFrame]], M | None,
                                                      Thread | None, list[str]]:
    """Where Go's traceback would start for ``g``, plus the system frames above it when
    the goroutine's thread is in a signal handler or on g0."""
    notes: list[str] = []
    m = m_by_addr(target, g.m) if g.m else None
    thread = thread_of(target, m) if m is not None and m.curg == g.addr else None
    if g.base_status == G_SYSCALL and g.syscallsp:
        return Start(g.syscallpc, g.syscallsp, 0, 0, syscall=True, source="syscall"), [], m, thread, notes
    if m is not None and m.curg == g.addr and m.vdso_sp:
        return Start(m.vdso_pc, m.vdso_sp, 0, 0, source="vdso"), [], m, thread, notes
    system: list[tuple[str, PhysFrame]] = []
    if thread is not None and m is not None and g.base_status == G_RUNNING:
        view = thread_view(target, m, thread)
        for seg in view.segments:
            system.extend((seg.stack, pf) for pf in seg.walk.frames)
        if view.regs is not None and view.stack == "g":
            r = view.regs
            source = "signal" if view.in_signal else "thread"
            return Start(r.pc, r.sp, r.lr, r.fp, trap=True, source=source), system, m, thread, notes
        if view.regs is not None and view.stack == "g0":
            g0_lo, g0_hi = stack_bounds(target, m.g0)
            u = unwinder(target)
            switch_ids = {u.ids.get("systemstack"), u.ids.get("morestack")}
            r = view.regs
            walk = u.walk(Start(r.pc, r.sp, r.lr, r.fp, trap=True, source="thread"),
                          StackWindow(target, r.sp, g0_hi), lo=g0_lo, hi=g0_hi,
                          until=lambda f: f.func.func_id in switch_ids)
            system.extend(("g0", pf) for pf in walk.frames)
    elif g.base_status == G_RUNNING and g.addr and m is not None and thread is None:
        notes.append("running on a thread the target has no registers for: its saved state may be stale")
    if g.syscallsp:
        return Start(g.syscallpc, g.syscallsp, 0, 0, syscall=True, source="syscall"), system, m, thread, notes
    return Start(g.sched_pc, g.sched_sp, g.sched_lr, g.sched_bp, source="sched"), system, m, thread, notes


def goroutine_stack(target: Target, g: G, *, until: Callable[[PhysFrame], bool] | None = None,
                    until_pc: Mapping[tuple[int, bool], bool] | None = None, summary: bool = False,
                    max_frames: int | None = None, keep: bool = True) -> GoroutineStack:
    """Unwind ``g``. With ``until``/``until_pc`` (see Unwinder.walk) the walk may end
    early, with ``summary`` it keeps only its first and last frames; only complete walks
    are cached, and only with ``keep`` (a listing of every goroutine walks each once)."""
    key = ("stacks:gstack", g.addr)
    found: GoroutineStack | None = target.cache.get(key)
    if found is not None:
        return found
    if g.dead:
        return GoroutineStack(g, None, [], [], "dead", None)
    start, system, m, thread, notes = goroutine_start(target, g)
    if start is None or not start.sp:
        return GoroutineStack(g, start, [], system, "no-state", None, m, thread, notes)
    u = unwinder(target)
    lo, hi = (g.lo, g.hi) if g.lo < g.hi else (0, 1 << 64)
    window = StackWindow(target, start.sp, hi if hi < 1 << 64 else start.sp + UNKNOWN_STACK_SPAN)
    if until is None and max_frames is None:
        walk = u.walk_window(start, window, lo=lo, hi=hi, until_pc=until_pc, summary=summary)
    else:
        kwargs: dict[str, Any] = {"lo": lo, "hi": hi, "until": until, "until_pc": until_pc, "summary": summary}
        if max_frames is not None:
            kwargs["max_frames"] = max_frames
        walk = u.walk(start, window, **kwargs)
    result = GoroutineStack(g, start, walk.frames, system, walk.stop, start.sp, m, thread, notes)
    if until is None and until_pc is None and not summary and keep:
        target.cache[key] = result
    return result


SystemFrame = tuple[str, "PhysFrame | NativeFrame"]


def system_logical(u: Unwinder, items: list[SystemFrame]) -> list[Frame]:
    """Logical frames of an M's system stacks (Go frames expand their inlined calls)."""
    out: list[Frame] = []
    for stack, f in items:
        if isinstance(f, NativeFrame):
            out.append(f.logical(stack))
        else:
            out.extend(u.logical(f, stack))
    return out


def m_system_frames(target: Target, m: M) -> tuple[list[SystemFrame], int | None, str]:
    """An M's own stacks for `bt --m`: the gsignal frames when its thread is in a signal
    handler, then its g0 frames (from the registers when the thread is on g0, else from
    g0.sched, which mstart left at the top of the g0 stack). A thread in C code (a cgo
    call, or a signal that arrived there) gets its C frames, unwound by their CFI, down
    to the Go code that called them. Returns (frames, g0 sp, stop)."""
    u = unwinder(target)
    out: list[SystemFrame] = []
    thread = thread_of(target, m)
    regs: Regs | None = None
    view: ThreadView | None = None
    if thread is not None:
        view = thread_view(target, m, thread)
        for seg in view.segments:
            out.extend((seg.stack, pf) for pf in seg.walk.frames)
        if view.stack == "g0" or (view.stack == "" and view.regs is not None
                                  and u.find_func(view.regs.pc) is None):
            regs = view.regs
    g0_lo, g0_hi = stack_bounds(target, m.g0)
    trap = regs is not None
    if regs is not None and view is not None and view.all_regs and u.find_func(regs.pc) is None:
        lo, hi = (g0_lo, g0_hi) if view.stack == "g0" else (regs.sp, regs.sp + NATIVE_STACK_SPAN)
        native = walk_native(target, view.all_regs, True, lo, hi)
        out.extend(("g0", nf) for nf in native.frames)
        if native.stop != "go":
            return out, regs.sp, "native: " + native.stop
        regs, trap = Regs(native.go_pc, native.go_sp, native.go_fp, native.go_lr), False
    if regs is None:
        try:
            g0 = read_g(target, m.g0)
        except FaultError:
            return out, None, "fault"
        regs = Regs(g0.sched_pc, g0.sched_sp, 0, g0.sched_lr)
    if not regs.sp:
        return out, None, "no-state"
    switch_ids = {u.ids.get("systemstack"), u.ids.get("morestack")}
    # mstart's own frame lies above g0.stack.hi when the OS made the stack (mstart0
    # sets hi to the address of one of its locals): let the walk reach it.
    top = g0_hi + G0_TOP_SLACK if g0_hi else 1 << 64
    walk = u.walk(Start(regs.pc, regs.sp, regs.lr, regs.fp, trap=trap, source="thread" if trap else "sched"),
                  StackWindow(target, regs.sp, top if g0_hi else regs.sp + UNKNOWN_STACK_SPAN),
                  lo=g0_lo or 0, hi=top, until=lambda f: f.func.func_id in switch_ids)
    out.extend(("g0", pf) for pf in walk.frames)
    return out, regs.sp, walk.stop


# --- the stack guard -------------------------------------------------------------------

# runtime/stack.go: stackGuard = stackNosplit + stackSystem + abi.StackSmall with
# stackNosplit = 800 * stackGuardMultiplier; 928 on linux without -race.
STACK_NOSPLIT_BASE = 800
STACK_SMALL = 128
# stackguard0 sentinels (runtime/stack.go): not a real guard, skip when measuring.
STACK_PREEMPT = 0xFFFFFFFFFFFFFADE
STACK_FORK = 0xFFFFFFFFFFFFFB2E
STACK_FORCE_MOVE = 0xFFFFFFFFFFFFFEED
GUARD_SENTINELS = (STACK_PREEMPT, STACK_FORK, STACK_FORCE_MOVE)
# How many goroutines are sampled to measure the guard.
GUARD_SAMPLE = 512


def stack_guard(target: Target) -> int:
    """The guard of this build, measured: stackguard0 - stack.lo of goroutines whose
    guard is not a preemption/fork sentinel (the most common value). The build's constant
    (doubled with -race) when no goroutine tells; a runtime that cannot be read is an
    error, not a guessed guard."""
    from collections import Counter

    from godbg.runtime.allgs import allgs

    def compute() -> int:
        seen: Counter[int] = Counter()
        for g in read_gs(target, allgs(target)[:GUARD_SAMPLE]):
            if g is None or g.dead or g.stackguard0 in GUARD_SENTINELS or not g.lo or g.stackguard0 <= g.lo:
                continue
            seen[g.stackguard0 - g.lo] += 1
        if seen:
            return seen.most_common(1)[0][0]
        race = target.has_symbol("runtime.racecall") or target.has_symbol("__tsan_init")
        return STACK_NOSPLIT_BASE * (2 if race else 1) + STACK_SMALL

    return target.memo("stack_guard", compute)
