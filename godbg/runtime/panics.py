"""The panic path of a goroutine: its `_panic` chain, its deferred calls (defer records
and open-coded defers) and, when a `throw` ended the program, the fatal error.

Facts from src/runtime/panic.go and runtime2.go, Go 1.22-1.27 (fields are read by name
from DWARF; `repanicked` exists from 1.25, `argp` until 1.26):
- `g._panic` is the newest panic; `link` leads to older ones. `fatalpanic` prints them
  oldest first (`printpanics`), after `preprintpanics` replaced error and Stringer values
  by their text, and (1.25+) marked an older panic `repanicked` when the next one carries
  the very same eface; the newer one is then not printed.
- Each `_panic` lives in its `runtime.gopanic` frame: `startSP` is that frame's SP and
  `startPC` a pc in it. `gopanic(e any)` keeps its argument in its spill slots at the
  frame's argp, which is where Go's own traceback reads `panic({0x…?, 0x…?})` from: the
  value's dynamic type from before `preprintpanics`.
- `_defer` records (`g._defer`, linked by `link`) are the pending heap and stack defers;
  the panic pops a record before calling it. Open-coded defers live in their frame:
  FUNCDATA_OpenCodedDeferInfo holds two uvarints, the offsets below the frame's varp of
  the deferBits byte and of the slots (one func value per `defer`, zeroed at entry, slot
  i for bit i, the slots nearest varp, so there are slotsOffset/8 of them).
- A `throw`/`fatal` prints "fatal error: …" before setting `panicking`; until then every
  print also lands in `printBacklog` (a 512-byte ring, `printBacklogIndex` its next
  write), so a core still holds the exact message. `fatalthrow` sets `m.throwing`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from godbg.errors import CorruptError, FaultError, GodbgError, UnsupportedError
from godbg.program.pclntab import FUNCDATA_OPEN_CODED_DEFER_INFO
from godbg.program.target import Target
from godbg.results.panic import Defer, Panic, PanicPath
from godbg.runtime.allgs import allgs
from godbg.runtime.g import read_g
from godbg.runtime.layouts import StructLayout, layout
from godbg.runtime.linked import follow
from godbg.runtime.m import M, all_ms
from godbg.runtime.runtime_errors import RUNTIME_ERROR_TYPES, eface_value
from godbg.runtime.signals import fatal_signal
from godbg.runtime.stack import goroutine_stack, m_system_frames, system_logical
from godbg.runtime.typenames import is_type_address, method_names, rtype, type_name
from godbg.runtime.unwind import Frame, PhysFrame, elide, unwinder

PTR_SIZE = 8
# Bounds: a chain or list longer than this is corrupt, not long.
MAX_PANICS = 10_000
MAX_DEFERS = 100_000
# deferBits is a uint8: at most eight open-coded defers per frame.
MAX_OPEN_DEFERS = 8
# Reading a uvarint from funcdata: never more bytes than a 64-bit value takes.
MAX_UVARINT_BYTES = 10

GOPANIC = "runtime.gopanic"
DEFERRETURN = "runtime.deferreturn"
THROW_FUNCS = ("runtime.throw", "runtime.fatal")
# What gopanic and deferreturn call besides the deferred functions themselves.
RUNTIME_CALLEES = frozenset({
    "runtime.fatalpanic", "runtime.preprintpanics", "runtime.(*_panic).nextDefer",
    "runtime.(*_panic).start", "runtime.(*_panic).nextFrame", "runtime.printpanicval",
    "runtime.throw", "runtime.traceAdvance", "runtime.mcall", "runtime.systemstack",
    "runtime.printlock", "runtime.printunlock", "runtime.printstring", "runtime.printnl",
    "runtime.recovery", "runtime.gorecover", "runtime.morestack", "runtime.morestack_noctxt",
})
FATAL_PREFIX = "fatal error: "

STATE_RAN = "ran"
STATE_RUNNING = "running"
STATE_PENDING = "pending"
KIND_HEAP = "heap"
KIND_STACK = "stack"
KIND_OPEN = "open-coded"
KIND_RANGEFUNC = "rangefunc"


@dataclass(frozen=True)
class PanicRecord:
    """One `_panic` record, decoded."""

    address: int
    value: Any
    text: str  # as printpanicval prints it
    type: str | None  # the dynamic type, from before preprintpanics when the core still tells
    recovered: bool
    repanicked: bool
    goexit: bool
    start_pc: int
    start_sp: int
    sp: int
    retpc: int
    arg_type: int  # the eface words as they are now
    arg_data: int
    printed: bool = True  # printpanics prints it (a 1.25+ repanic duplicate is not)

    def result(self) -> Panic:
        """The panic as godbg answers it (``godbg.results.panic.Panic``)."""
        return Panic(self.value, self.type, self.recovered, self.repanicked, self.goexit, self.text)


@dataclass(frozen=True)
class DeferRecord:
    function: str | None  # the deferred function
    frame: str | None  # the function whose `defer` statement deferred it
    state: str  # ran / running / pending
    kind: str  # heap / stack / open-coded / rangefunc
    fn: int  # the func value
    frame_sp: int  # SP of the deferring frame (0: unknown)

    def result(self) -> Defer:
        """The deferred call as godbg answers it (``godbg.results.panic.Defer``)."""
        return Defer(self.function, self.frame, self.state, self.kind)


# --- the _panic chain ----------------------------------------------------------------------


def _panic_layout(target: Target) -> StructLayout:
    return layout(target, "runtime._panic")


def _eface_paths(lay: StructLayout) -> tuple[str, str]:
    for t in ("arg._type", "arg.type", "arg.tab"):
        if lay.has(t):
            return t, "arg.data"
    raise UnsupportedError("runtime._panic.arg has no type word this godbg knows")


def _u64(raw: bytes, off: int) -> int:
    return int.from_bytes(raw[off : off + 8], "little")


def chain_addresses(target: Target, head: int) -> list[int]:
    """The `_panic` records from ``head`` along `link`, newest first; bounded, cycle-safe."""
    return follow(target, head, _panic_layout(target).off("link"), "the _panic chain", MAX_PANICS)


def _gopanic_argp(target: Target, start_pc: int, start_sp: int) -> int | None:
    """argp of the gopanic frame a `_panic` lives in: its SP plus its frame size plus the
    return address (amd64) or the saved LR slot (arm64: MinFrameSize)."""
    tab = target.binary.pclntab
    f = tab.find_func(start_pc)
    if f is None or f.name != GOPANIC or not start_sp:
        return None
    delta = tab.pcsp(f, start_pc)
    if delta < 0:
        return None
    return start_sp + delta + PTR_SIZE


def _original_type(target: Target, start_pc: int, start_sp: int, arg_type: int) -> str | None:
    """The dynamic type gopanic was called with, when preprintpanics has since replaced
    the value by its text: the spilled argument must be a runtime type with an Error or
    String method (what preprintpanics converts), else it is stale stack, not the value."""
    argp = _gopanic_argp(target, start_pc, start_sp)
    if argp is None:
        return None
    try:
        spilled = target.memory.ptr(argp)
    except FaultError:
        return None
    if not spilled or spilled == arg_type or not is_type_address(target, spilled):
        return None
    methods = method_names(target, spilled)
    if methods is None or not ({"Error", "String"} & set(methods)):
        return None
    return type_name(target, spilled)


def _user_value(target: Target, type_word: int, data: int, data_field: int | None = None) -> Any:
    """A value of a type printpanicval has no words for, through the DWARF value decoder;
    a pointer to a struct is shown by what it points to."""
    if not target.binary.has_dwarf:
        return None
    try:
        from godbg.program.dwarf import POINTER, STRUCT
        from godbg.values import decode as values

        t = target.binary.dwarf.type_by_runtime_type(type_word)
        if t is None:
            return None
        decoder = values.target_decoder(target)
        if t.kind == POINTER and t.elem is not None and t.elem.kind == STRUCT:
            return decoder.decode(t.elem, data) if data else None
        if rtype(target, type_word).direct:
            if data_field is None:
                return None
            return decoder.decode(t, data_field)
        return decoder.decode(t, data)
    except (GodbgError, ImportError, AttributeError):
        return None


def describe_eface(target: Target, type_word: int, data: int) -> tuple[Any, str, str | None]:
    """(value, Go's printed text, type name) of an eface held in registers or memory."""
    value, text, tname = eface_value(target, type_word, data)
    if tname is not None and value is None and tname not in RUNTIME_ERROR_TYPES:
        decoded = _user_value(target, type_word, data)
        if decoded is not None:
            value = decoded
    return value, text, tname


def read_panic(target: Target, address: int) -> PanicRecord:
    lay = _panic_layout(target)
    raw = target.memory.read(address, lay.size)
    type_path, data_path = _eface_paths(lay)
    arg_type, arg_data = _u64(raw, lay.off(type_path)), _u64(raw, lay.off(data_path))
    start_pc, start_sp = _u64(raw, lay.off("startPC")), _u64(raw, lay.off("startSP"))

    def flag(name: str) -> bool:
        return bool(raw[lay.off(name)])

    value, text, tname = eface_value(target, arg_type, arg_data)
    original = _original_type(target, start_pc, start_sp, arg_type) if tname == "string" else None
    if original is not None:
        tname = original
    elif tname is not None and value is None and tname not in RUNTIME_ERROR_TYPES:
        decoded = _user_value(target, arg_type, arg_data, address + lay.off(data_path))
        if decoded is not None:
            value = decoded
    return PanicRecord(
        address=address, value=value, text=text, type=tname,
        recovered=flag("recovered"), goexit=flag("goexit"),
        repanicked=flag("repanicked") if lay.has("repanicked") else False,  # a field since Go 1.25
        start_pc=start_pc, start_sp=start_sp, sp=_u64(raw, lay.off("sp")), retpc=_u64(raw, lay.off("retpc")),
        arg_type=arg_type, arg_data=arg_data,
    )


def panic_chain(target: Target, g: int) -> list[PanicRecord]:
    """The goroutine's panics, oldest first, with Go's printing rules applied: a 1.25+
    repanic of the same eface marks the older panic repanicked and hides the newer."""
    head = target.memory.ptr(g + layout(target, "runtime.g").off("_panic"))
    newest_first = [read_panic(target, a) for a in chain_addresses(target, head)]
    has_field = _panic_layout(target).has("repanicked")
    oldest_first = list(reversed(newest_first))
    out: list[PanicRecord] = []
    for i, p in enumerate(oldest_first):
        older = out[i - 1] if i else None
        if has_field and older is not None and (older.arg_type, older.arg_data) == (p.arg_type, p.arg_data):
            # preprintpanics' rule, applied here too for a live stop before it runs.
            out[i - 1] = older = _replace(older, repanicked=True)
        printed = not (has_field and older is not None and older.repanicked) and not p.goexit
        out.append(_replace(p, printed=printed))
    return out


def _replace(p: PanicRecord, **changes: Any) -> PanicRecord:
    from dataclasses import replace

    return replace(p, **changes)


# --- which goroutine ------------------------------------------------------------------------


def _g_panic(target: Target, g: int) -> int:
    return target.memory.ptr(g + layout(target, "runtime.g").off("_panic"))


def find_panicking(target: Target) -> tuple[int | None, M | None, bool]:
    """(g, its M, fatal?) for the goroutine the panic path belongs to: the crashing
    thread's M (its curg: the user goroutine even when a throw runs on g0), any M
    throwing or running a panicking goroutine, then any goroutine with `_panic` set."""
    ms = all_ms(target)
    crash = None
    if target.crash_thread is not None:
        crash = next((m for m in ms if m.procid == target.crash_thread), None)
    ordered = ([crash] if crash else []) + [m for m in ms if m is not crash]
    for m in ordered:
        if m.throwing > 0:
            return (m.curg or None), m, True
    for m in ordered:
        if m.curg and _safe_panic(target, m.curg):
            return m.curg, m, False
    found = []
    for g in allgs(target):
        if _safe_panic(target, g):
            try:
                if read_g(target, g).dead:
                    continue
            except FaultError:
                continue
            found.append(g)
    if len(found) > 1:
        target.warn(f"{len(found)} goroutines have a panic under way; showing the first")
    if found:
        return found[0], None, False
    return None, crash, False


def _safe_panic(target: Target, g: int) -> int:
    try:
        return _g_panic(target, g)
    except FaultError:
        return 0


# --- fatal errors ----------------------------------------------------------------------------


def backlog_text(target: Target) -> str | None:
    """What the runtime printed last before it started crashing (printBacklog, oldest first)."""
    if not target.has_symbol("runtime.printBacklog"):
        return None
    base = target.symbol_address("runtime.printBacklog")
    sym = target.binary.symbol("runtime.printBacklog")
    size = sym.size if sym is not None and sym.size else 512
    raw = target.memory.read(base, size)
    index = target.memory.u64(target.symbol_address("runtime.printBacklogIndex")) % size
    ring = raw[index:] + raw[:index]
    return ring.lstrip(b"\0").decode("utf-8", errors="replace")


def fatal_message(target: Target) -> str | None:
    """The last "fatal error: …" the runtime printed, with printindented's continuation
    lines ("\\n\\t…") joined back."""
    text = backlog_text(target)
    return last_fatal_line(text) if text else None


def last_fatal_line(text: str) -> str | None:
    """The message of the last "fatal error: " line of runtime output."""
    at = text.rfind(FATAL_PREFIX)
    if at < 0:
        return None
    rest = text[at + len(FATAL_PREFIX) :]
    lines = rest.split("\n")
    msg = [lines[0]]
    for line in lines[1:]:
        if not line.startswith("\t") or line.startswith("\t" + FATAL_PREFIX):
            break
        msg.append(line[1:])
    return "\n".join(msg)


def _is_throw(function: str) -> bool:
    # runtime.throw/fatal, and the runtime-internal packages' linknamed wrappers of them
    # (internal/runtime/maps.fatal, …).
    if function in THROW_FUNCS:
        return True
    pkg, _, name = function.rpartition(".")
    return pkg.startswith("internal/runtime/") and name in ("fatal", "throw")


def _thrower(frames: list[Frame]) -> str | None:
    """The function that called throw/fatal (past any wrappers of them)."""
    for i, f in enumerate(frames):
        if not _is_throw(f.function):
            continue
        for g in frames[i + 1 :]:
            if not _is_throw(g.function):
                return g.function
        return None
    return None


# --- defers -----------------------------------------------------------------------------------


def _func_name(target: Target, pc: int) -> str | None:
    f = target.binary.pclntab.find_func(pc) if pc else None
    return f.name if f is not None else None


def funcval_pc(target: Target, fn: int) -> int:
    """The code pointer of a func value. Closures without captures are static funcvals
    in read-only data: when the target's memory cannot serve that page (a core whose
    segment ends mid-page), the binary holds the same bytes."""
    try:
        return target.memory.ptr(fn)
    except FaultError:
        return target.binary.static_pointer(fn)


def _funcval_name(target: Target, fn: int) -> str | None:
    if not fn:
        return None
    try:
        return _func_name(target, funcval_pc(target, fn))
    except FaultError:
        return None


def defer_records(target: Target, g: int) -> list[DeferRecord]:
    """The pending heap and stack records of `g._defer`, in the order they will run."""
    lay = layout(target, "runtime._defer")
    head = target.memory.ptr(g + layout(target, "runtime.g").off("_defer"))
    out: list[DeferRecord] = []
    for d in follow(target, head, lay.off("link"), f"the _defer list of g {g:#x}", MAX_DEFERS):
        raw = target.memory.read(d, lay.size)
        fn = _u64(raw, lay.off("fn"))
        kind = KIND_HEAP if raw[lay.off("heap")] else KIND_STACK
        if lay.has("rangefunc") and raw[lay.off("rangefunc")]:
            kind = KIND_RANGEFUNC
        pc = _u64(raw, lay.off("pc"))
        out.append(DeferRecord(_funcval_name(target, fn), _func_name(target, pc), STATE_PENDING, kind, fn,
                         _u64(raw, lay.off("sp"))))
    return out


def _uvarint(data: bytes, pos: int) -> tuple[int, int]:
    n = shift = 0
    for _ in range(MAX_UVARINT_BYTES):
        b = data[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, pos
    raise CorruptError("bad uvarint in open-coded defer info")


def open_coded(target: Target, frame: PhysFrame) -> list[tuple[int, int, bool]]:
    """(slot index, func value, pending) for each open-coded defer statement this frame
    has executed, in the order they run (highest slot first)."""
    tab = target.binary.pclntab
    addr = tab.funcdata(frame.func, FUNCDATA_OPEN_CODED_DEFER_INFO)
    if addr is None:
        return []
    info = target.memory.read(addr, 2 * MAX_UVARINT_BYTES)
    bits_off, pos = _uvarint(info, 0)
    slots_off, _pos = _uvarint(info, pos)
    uses_lr = target.goarch == "arm64"
    varp = frame.fp if uses_lr else frame.fp - PTR_SIZE
    if varp > frame.sp:
        varp -= PTR_SIZE  # the saved frame pointer
    bits = target.memory.u8(varp - bits_off)
    count = min(MAX_OPEN_DEFERS, slots_off // PTR_SIZE)
    slots = target.memory.read(varp - slots_off, PTR_SIZE * count) if count else b""
    out = []
    for i in reversed(range(count)):
        fn = _u64(slots, i * PTR_SIZE)
        if fn:
            out.append((i, fn, bool(bits >> i & 1)))
    return out


def collect_defers(target: Target, g: int, frames: list[PhysFrame], chain: list[PanicRecord]) -> list[DeferRecord]:
    """Every deferred call godbg can see, outermost run order: per frame (innermost
    first) the calls it deferred; records of frames not on the stack last."""
    by_sp = {f.sp: i for i, f in enumerate(frames)}
    running: list[DeferRecord] = []
    running_fns: set[tuple[int, str | None]] = set()
    for i, f in enumerate(frames[:-1]):
        caller = frames[i + 1]
        if caller.func.name not in (GOPANIC, DEFERRETURN) or f.func.name in RUNTIME_CALLEES:
            continue
        frame_sp = 0
        if caller.func.name == GOPANIC:
            owner = next((p for p in chain if p.start_sp == caller.sp), None)
            frame_sp = owner.sp if owner is not None else 0
        elif i + 2 < len(frames):
            frame_sp = frames[i + 2].sp
        deferrer = frames[by_sp[frame_sp]].func.name if frame_sp in by_sp else None
        running.append(DeferRecord(f.func.name, deferrer, STATE_RUNNING, KIND_OPEN, 0, frame_sp))
        running_fns.add((frame_sp, f.func.name))
    found: list[DeferRecord] = list(running)
    for f in frames:
        try:
            slots = open_coded(target, f)
        except (FaultError, CorruptError):
            continue
        for _i, fn, pending in slots:
            name = _funcval_name(target, fn)
            if not pending and (f.sp, name) in running_fns:
                continue  # already listed as running
            state = STATE_PENDING if pending else STATE_RAN
            found.append(DeferRecord(name, f.func.name, state, KIND_OPEN, fn, f.sp))
    records = defer_records(target, g)
    # A running call found through its frame may have come from a record: say so.
    found.extend(records)
    order = {id(d): n for n, d in enumerate(found)}
    return sorted(found, key=lambda d: (by_sp.get(d.frame_sp, len(frames)), order[id(d)]))


# --- all of it ----------------------------------------------------------------------------------


def panic_path(target: Target) -> PanicPath:
    """The panic path of the panicking goroutine (or of the M that threw); what it could
    not read becomes a warning."""
    g, m, fatal = find_panicking(target)
    notes: list[str] = []
    fatal_error = fatal_message(target) if fatal else None
    signal = fatal_signal(target)
    # A signal death (SIGSEGV in C, SIGQUIT) prints "SIGxxx: …", never "fatal error:".
    if fatal and fatal_error is None and signal is None:
        notes.append("an M is throwing but printBacklog holds no \"fatal error:\" line")
    goid = None
    chain: list[PanicRecord] = []
    defers: list[DeferRecord] = []
    frames: list[Frame] = []
    phys: list[PhysFrame] = []
    u = unwinder(target)
    if g:
        gs = read_g(target, g)
        goid = gs.goid
        try:
            stack = goroutine_stack(target, gs)
            frames = stack.logical(u)
            phys = stack.frames
            notes.extend(stack.notes)
        except GodbgError as e:
            notes.append(f"cannot unwind goroutine {goid}: {e}")
        chain = panic_chain(target, g)
        try:
            defers = collect_defers(target, g, phys, chain)
        except GodbgError as e:
            notes.append(f"cannot list the deferred calls: {e}")
    thrower = None
    if fatal and m is not None:
        system, _sp, _stop = m_system_frames(target, m)
        sys_frames = system_logical(u, system)
        thrower = _thrower(sys_frames) or _thrower(frames)
        if not frames:
            frames = sys_frames
    for n in notes:
        target.warn(n)
    frames, elided = elide(frames)
    return PanicPath(goroutine=goid, fatal_error=fatal_error, fatal_function=thrower,
                     panics=tuple(p.result() for p in chain if p.printed), defers=tuple(d.result() for d in defers),
                     frames=tuple(f.result() for f in frames), elided=elided, fatal_signal=signal,
                     m=m.id if m is not None else None)


# --- helpers for a live narration (`panic replay`) ----------------------------------------------


def goroutine_of_thread(target: Target, tid: int) -> int | None:
    """The user goroutine an OS thread's M runs (m.curg), or None."""
    for m in all_ms(target):
        if m.procid == tid:
            return m.curg or None
    return None


def user_function(target: Target, g: int) -> str | None:
    """The innermost frame of ``g`` outside the runtime: who panicked, recovered or threw."""
    try:
        stack = goroutine_stack(target, read_g(target, g))
    except GodbgError:
        return None
    u = unwinder(target)
    for pf in stack.frames:
        for f in u.logical(pf):
            if not f.function.startswith(("runtime.", "internal/runtime/")):
                return f.function
    return None


def pending_defer_entries(target: Target, g: int) -> dict[int, DeferRecord]:
    """Entry pc -> deferred call, for every deferred call of ``g`` still to run."""
    try:
        stack = goroutine_stack(target, read_g(target, g))
        found = collect_defers(target, g, stack.frames, panic_chain(target, g))
    except GodbgError:
        return {}
    out: dict[int, DeferRecord] = {}
    for d in found:
        if d.state != STATE_PENDING or not d.fn:
            continue
        try:
            out[funcval_pc(target, d.fn)] = d
        except FaultError:
            continue
    return out
