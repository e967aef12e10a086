"""What each blocked goroutine waits on: the kind of wait and the object, with its
address and a name a person recognises.

Sources (runtime/chan.go, select.go, sema.go, time.go, netpoll.go, Go 1.22-1.27):
- channel operations and select: ``g.waiting``, a list of sudogs through ``waitlink``,
  one per channel (``sudog.c``); a select case's direction is the queue (recvq/sendq)
  of the channel that holds its sudog;
- sync.Mutex, RWMutex, WaitGroup and runtime semaphores: the semaphore table, keyed by
  the address of the sema word inside the object (from 1.26 also ``g.waiting``);
- sync.Cond: the notifyList inside the Cond (``g.waiting.elem`` from 1.26; before, the
  notifyList whose sudog list holds the goroutine, found from the words of its stack);
- time.Sleep: ``g.timer``'s ``when``; network waits: the pollDesc whose rg/wg holds g.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, TypeVar

from godbg.errors import FaultError, GodbgError
from godbg.program.dwarf import POINTER
from godbg.program.target import Target
from godbg.results.waits import ChanRef, WaitingOn
from godbg.runtime.chans import Hchan, read_hchan
from godbg.runtime.g import G_LEAKED, G_SYSCALL, G_WAITING, G, wait_reason
from godbg.runtime.heap import heap
from godbg.runtime.labels import labels_at
from godbg.runtime.layouts import has_layout, layout
from godbg.runtime.objnames import GLOBAL, Place, Stacks, _walk_type, frame_name, place_of
from godbg.runtime.semtable import sema_waiters
from godbg.runtime.sudog import Sudog, follow_sudogs, g_waiting_sudogs, prefetch_sudogs, read_sudog
from godbg.runtime.unwind import read_uncached

CHAN_RECV, CHAN_SEND, SELECT = "chan receive", "chan send", "select"
MUTEX, RW_READ, RW_WRITE = "mutex", "rwmutex read", "rwmutex write"
WAITGROUP, COND, SEMAPHORE = "waitgroup", "cond", "semaphore"
SLEEP, TIMER, NETPOLL, SYSCALL, OTHER = "sleep", "timer", "netpoll", "syscall", "other"

# Wait reasons (runtime.waitReasonStrings, read from the binary) and what they mean.
CHAN_REASONS = {"chan receive": CHAN_RECV, "chan send": CHAN_SEND,
                "chan receive (nil chan)": CHAN_RECV, "chan send (nil chan)": CHAN_SEND}
SELECT_REASONS = ("select", "select (no cases)")
SEMA_REASONS = {"sync.Mutex.Lock": MUTEX, "sync.RWMutex.RLock": RW_READ, "sync.RWMutex.Lock": RW_WRITE,
                "sync.WaitGroup.Wait": WAITGROUP, "semacquire": SEMAPHORE}
COND_REASON = "sync.Cond.Wait"
SLEEP_REASON = "sleep"
NETPOLL_REASON = "IO wait"
# Go's goroutine leak detector (runtime/mgcmark.go internalBlocked): the waits on
# program-visible objects; every other wait is the runtime's own.
LEAK_CANDIDATE_REASONS = frozenset({
    "chan receive (nil chan)", "chan send (nil chan)", "select (no cases)", "select", "chan receive",
    "chan send", "sync.Cond.Wait", "sync.Mutex.Lock", "sync.RWMutex.RLock", "sync.RWMutex.Lock",
    "sync.WaitGroup.Wait",
})
NEVER_RUNNABLE_REASONS = frozenset({"chan receive (nil chan)", "chan send (nil chan)", "select (no cases)"})

MUTEX_TYPES = ("sync.Mutex", "internal/sync.Mutex")
RWMUTEX_TYPE, WAITGROUP_TYPE, COND_TYPE = "sync.RWMutex", "sync.WaitGroup", "sync.Cond"
# How much of a goroutine's stack is searched for a Cond's or a pollDesc's address.
STACK_SEARCH_BYTES = 8192
MAX_NOTIFY_LIST = 100_000


@dataclass(frozen=True)
class GExtra:
    """The fields of a g this module needs beyond stacks.G."""

    waiting: int
    labels: int
    timer: int


def g_extras(target: Target, gs: list[G], keep: bool = True) -> dict[int, GExtra]:
    """g.waiting, g.labels and g.timer of many gs, read in bulk (memoized per stop with
    ``keep``)."""
    if not keep:
        return _read_extras(target, gs)
    known: dict[int, GExtra] = target.cache.setdefault("waits:extras", {})
    missing = [g for g in gs if g.addr not in known]
    if missing:
        known.update(_read_extras(target, missing))
    return {g.addr: known[g.addr] for g in gs}


def _read_extras(target: Target, gs: list[G]) -> dict[int, GExtra]:
    lay = layout(target, "runtime.g")
    offs = [lay.off(p) if lay.has(p) else -1 for p in ("waiting", "labels", "timer")]
    present = [o for o in offs if o >= 0]
    lo, hi = min(present), max(present) + 8
    out: dict[int, GExtra] = {}
    addrs = sorted({g.addr for g in gs})
    i = 0
    while i < len(addrs):
        j = i + 1
        while j < len(addrs) and addrs[j] - addrs[j - 1] <= 4096 and addrs[j] - addrs[i] <= 1 << 20:
            j += 1
        try:
            blob = read_uncached(target, addrs[i] + lo, addrs[j - 1] - addrs[i] + hi - lo)
        except FaultError:
            blob = None
        for a in addrs[i:j]:
            vals = []
            for o in offs:
                if o < 0:
                    vals.append(0)
                    continue
                try:
                    vals.append(struct.unpack_from("<Q", blob, a - addrs[i] + o - lo)[0] if blob is not None
                                else target.memory.ptr(a + o))
                except FaultError:
                    vals.append(0)
            out[a] = GExtra(*vals)
        i = j
    return out


def _global_holders(target: Target) -> dict[int, int]:
    """Pointer value -> the address of the first data/bss word holding it."""

    def compute() -> dict[int, int]:
        from godbg.runtime.roots import data_roots

        out: dict[int, int] = {}
        for base, words in data_roots(target):
            for i, w in enumerate(words):
                if w and w not in out:
                    out[w] = base + 8 * i
        return out

    return target.memo("waits:holders", compute)


class Namer:
    """Names for wait objects, memoized by address: 100,000 goroutines blocked on one
    channel name it once. ``gs`` gives the goroutines whose stacks may hold an object
    (asked for only when a name needs them)."""

    def __init__(self, target: Target, gs: Callable[[], Stacks]) -> None:
        self.target = target
        self._gs = gs
        self._places: dict[int, Place | None] = {}
        # addr -> its name, or ("heap", base) when only a waiter's stack can name it
        self._held: dict[int, str | None | tuple[str, int]] = {}

    @property
    def gs(self) -> Stacks:
        return self._gs()

    def place(self, addr: int) -> Place | None:
        if addr not in self._places:
            self._places[addr] = place_of(self.target, addr, self.gs)
        return self._places[addr]

    def held(self, addr: int, waiters: tuple[G, ...] = ()) -> str | None:
        """The name of an object reached through a pointer (a channel, a heap struct):
        the global holding a pointer to it (and the field path from there), else the
        place of the object itself (a global or a stack slot), else a waiter's frame that
        holds the pointer, else the heap object's type."""
        if addr not in self._held:
            self._held[addr] = self._shared_name(addr)
        found = self._held[addr]
        if not isinstance(found, tuple):
            return found
        base = found[1]
        t = self.target
        for g in waiters:
            names = [frame_name(t, g, slot) for slot in _stack_slots_holding(t, g, base)]
            # The program's own frame says more than the runtime's spill of an argument.
            own = [n for n in names if " runtime." not in n]
            if own or names:
                return (own or names)[0]
        direct = self.place(addr)
        return direct.name if direct is not None else None

    def _shared_name(self, addr: int) -> str | None | tuple[str, int]:
        """What names ``addr`` whoever waits on it; ("heap", base) for a heap object that
        no global reaches (its waiters' frames may name it)."""
        t = self.target
        try:
            obj = heap(t).object_at(addr)
        except (FaultError, GodbgError):
            obj = None
        if obj is None:
            direct = self.place(addr)
            if direct is not None and direct.kind == GLOBAL and ".." not in direct.levels[0].name:
                return direct.name
            holder = _global_holders(t).get(addr)
            hp = self.place(holder) if holder is not None else None
            if hp is not None:
                return hp.name  # a compiler's static temporary, named by the global pointing to it
            return direct.name if direct is not None else None
        base = obj.base
        holder = _global_holders(t).get(base)
        if holder is not None:
            hp = self.place(holder)
            if hp is not None:
                return hp.name if base == addr else self._path_through(holder, hp, base, addr)
        return ("heap", base)

    def _path_through(self, holder: int, hp: Place, base: int, addr: int) -> str:
        t = self.target
        if t.binary.has_dwarf:
            sym = t.binary.symbol_at(holder)
            var = t.binary.dwarf.variable(sym.name) if sym is not None else None
            vt = var.type if var is not None else None
            if vt is not None and vt.kind == POINTER and vt.elem is not None and holder == sym.addr:  # type: ignore[union-attr]
                return _walk_type(hp.name, vt.elem, base, addr)[-1].name
        return f"{hp.name}+{addr - base}"


def _stack_slots_holding(target: Target, g: G, value: int) -> list[int]:
    sp = g.sched_sp if g.lo <= g.sched_sp < g.hi else g.lo
    try:
        raw = read_uncached(target, sp, g.hi - sp)
    except FaultError:
        return []
    words = struct.unpack(f"<{len(raw) // 8}Q", raw[: len(raw) // 8 * 8])
    return [sp + 8 * i for i, w in enumerate(words) if w == value]


def _chan(target: Target, addr: int) -> Hchan | None:
    try:
        return read_hchan(target, addr)
    except (FaultError, GodbgError):
        return None


def _stack_words(target: Target, g: G) -> list[int]:
    sp = g.sched_sp if g.lo <= g.sched_sp < g.hi else g.lo
    size = min(g.hi - sp, STACK_SEARCH_BYTES)
    try:
        raw = read_uncached(target, sp, size)
    except FaultError:
        return []
    return [w for w in struct.unpack(f"<{size // 8}Q", raw[: size // 8 * 8]) if w > 4096 and not w & 7]


def _notify_list_of(target: Target, g: G) -> int | None:
    """The notifyList holding g's sudog, from the words of g's stack (Go < 1.26)."""
    nl = layout(target, "runtime.notifyList")
    cond_notify = layout(target, COND_TYPE).off("notify") if has_layout(target, COND_TYPE) else None
    for w in dict.fromkeys(_stack_words(target, g)):
        for cand in (w, w + cond_notify) if cond_notify is not None else (w,):
            try:
                head = target.memory.ptr(cand + nl.off("head"))
                if not head:
                    continue
                chain = follow_sudogs(target, head, "next")[:MAX_NOTIFY_LIST]
                # The list's tail must be where the chain from its head ends.
                if chain[-1].addr != target.memory.ptr(cand + nl.off("tail")):
                    continue
                if any(s.g == g.addr for s in chain):
                    return cand
            except (FaultError, GodbgError):
                continue
    return None


def _poll_fd(target: Target, g: G) -> tuple[int, int] | None:
    """(pollDesc address, fd) of the pollDesc whose rg or wg holds g."""
    if not has_layout(target, "runtime.pollDesc"):
        return None
    pd = layout(target, "runtime.pollDesc")
    for w in dict.fromkeys(_stack_words(target, g)):
        try:
            raw = target.memory.read(w, pd.off("wg") + 8)
        except FaultError:
            continue
        rg = struct.unpack_from("<Q", raw, pd.off("rg"))[0]
        wg = struct.unpack_from("<Q", raw, pd.off("wg"))[0]
        if g.addr in (rg, wg):
            return w, struct.unpack_from("<Q", raw, pd.off("fd"))[0]
    return None


def _sema_object(namer: Namer, sema: int, reason_kind: str) -> tuple[str, int, str | None]:
    """(kind, object address, name) for a goroutine parked on the sema word at ``sema``:
    from the Go types around the word where it lies in a global, else from the wait
    reason and the sema field's offset in the type the reason names."""
    t = namer.target
    place = namer.place(sema)
    if place is not None and place.kind == GLOBAL:
        rw = place.innermost((RWMUTEX_TYPE,))
        if rw is not None:
            lay = layout(t, RWMUTEX_TYPE)
            kind = RW_READ if sema == rw.address + lay.off("readerSem") else RW_WRITE
            return kind, rw.address, rw.name
        wgl = place.innermost((WAITGROUP_TYPE,))
        if wgl is not None:
            return WAITGROUP, wgl.address, wgl.name
        for lv in place.levels:
            if lv.type in MUTEX_TYPES:
                return MUTEX, lv.address, lv.name
    kind = reason_kind
    field = {MUTEX: ("sync.Mutex", ("mu.sema", "sema")), RW_READ: (RWMUTEX_TYPE, ("readerSem",)),
             RW_WRITE: (RWMUTEX_TYPE, ("writerSem",)), WAITGROUP: (WAITGROUP_TYPE, ("sema",))}.get(kind)
    addr = sema
    if field is not None and has_layout(t, field[0]):
        lay = layout(t, field[0])
        for path in field[1]:
            if lay.has(path):
                addr = sema - lay.off(path)
                break
    return kind, addr, namer.held(addr)


def waiting_on(target: Target, g: G, extra: GExtra, namer: Namer) -> WaitingOn | None:
    """What one goroutine waits on; None for one that is not blocked."""
    status = g.base_status
    if status == G_SYSCALL:
        return WaitingOn(SYSCALL, None, None)
    if status not in (G_WAITING, G_LEAKED):
        return None
    reason = wait_reason(target, g) or ""
    since = g.waitsince or None
    try:
        return _waiting_on(target, g, extra, namer, reason, since)
    except (FaultError, GodbgError) as e:
        target.warn(f"goroutine {g.goid}: what it waits on is unreadable: {e}")
        return WaitingOn(OTHER, None, None, since)


def _waiting_on(target: Target, g: G, extra: GExtra, namer: Namer, reason: str, since: int | None) -> WaitingOn:
    sudogs: list[Sudog] = g_waiting_sudogs(target, extra.waiting)
    if reason in CHAN_REASONS:
        c = sudogs[0].c if sudogs else 0
        return WaitingOn(CHAN_REASONS[reason], c or None, namer.held(c, (g,)) if c else None, since,
                         targets=(c,) if c else ())
    if reason in SELECT_REASONS:
        refs = []
        for s in sudogs:
            ch = _chan(target, s.c)
            refs.append(ChanRef(ch.direction_of(s.addr) if ch is not None else None, s.c, namer.held(s.c, (g,))))
        first = refs[0] if len(refs) == 1 else None
        return WaitingOn(SELECT, first.address if first else None, first.object if first else None, since,
                         channels=tuple(refs), targets=tuple(r.address for r in refs))
    if reason in SEMA_REASONS:
        sema = sudogs[0].elem if sudogs and sudogs[0].elem else 0
        if not sema:
            found = sema_waiters(target).get(g.addr)
            sema = found.sema if found is not None else 0
        if not sema:
            return WaitingOn(SEMA_REASONS[reason], None, None, since)
        kind, addr, name = _sema_object(namer, sema, SEMA_REASONS[reason])
        return WaitingOn(kind, addr, name, since, targets=(sema,))
    if reason == COND_REASON:
        nl = sudogs[0].elem if sudogs and sudogs[0].elem else _notify_list_of(target, g)
        if not nl:
            return WaitingOn(COND, None, None, since)
        addr = nl - layout(target, COND_TYPE).off("notify") if has_layout(target, COND_TYPE) else nl
        name = namer.held(addr, (g,))
        return WaitingOn(COND, addr, name, since, targets=(nl,))
    if reason == SLEEP_REASON or reason.startswith("sleep"):
        when = None
        if extra.timer:
            tl = layout(target, "runtime.timer")
            when = target.memory.i64(extra.timer + tl.off("when"))
        return WaitingOn(SLEEP, extra.timer or None, None, since, deadline_ns=when)
    if reason.startswith(NETPOLL_REASON):
        found_pd = _poll_fd(target, g)
        if found_pd is None:
            return WaitingOn(NETPOLL, None, None, since)
        return WaitingOn(NETPOLL, found_pd[0], f"fd {found_pd[1]}", since, fd=found_pd[1])
    return WaitingOn(OTHER, None, None, since)


@dataclass(frozen=True)
class GoroutineWait:
    g: G
    waiting_on: WaitingOn | None
    labels: dict[str, str]


def goroutine_waits(target: Target, gs: list[G], namer: Namer | None = None,
                    keep: bool = True) -> dict[int, GoroutineWait]:
    """What every goroutine of ``gs`` waits on and its labels, by goroutine id. ``namer``
    names the objects (by default from ``gs``' own stacks and the globals). Without
    ``keep`` the sudogs read are dropped from the per-stop memo afterwards
    (a listing that streams every goroutine holds one chunk's worth at a time)."""
    if keep:
        return _goroutine_waits(target, gs, namer, keep)
    with dropping_sudogs(target):
        return _goroutine_waits(target, gs, namer, keep)


@contextmanager
def dropping_sudogs(target: Target) -> Iterator[None]:
    """Sudogs (and channels with short queues) read inside leave the per-stop memo at the
    end: what is read for one chunk of goroutines is not kept for the next."""
    cache = target.cache
    before = len(cache)
    try:
        yield
    finally:
        for k in list(itertools.islice(cache, before, None)):
            if type(k) is not tuple:
                continue
            if k[0] == "sudog" or (k[0] == "hchan" and _short_queues(cache[k])):
                del cache[k]


_T = TypeVar("_T")
# Goroutines whose waits are read together by streamed_waits (g fields and sudogs in bulk).
WAITS_CHUNK = 4096
# A channel with more waiters than this stays in the per-stop memo after a chunk: another
# chunk's goroutines likely wait on it too, and its queue is read once.
SHARED_QUEUE = 8


def _short_queues(ch: Hchan) -> bool:
    return len(ch.recvq) + len(ch.sendq) <= SHARED_QUEUE


def _goroutine_waits(target: Target, gs: list[G], namer: Namer | None, keep: bool) -> dict[int, GoroutineWait]:
    extras = g_extras(target, gs, keep)
    firsts = [e.waiting for e in extras.values() if e.waiting]
    prefetch_sudogs(target, firsts)
    prefetch_sudogs(target, [s.waitlink for s in (read_sudog(target, a) for a in firsts) if s.is_select])
    if namer is None:
        namer = Namer(target, lambda: gs)
    out: dict[int, GoroutineWait] = {}
    for g in gs:
        extra = extras.get(g.addr, GExtra(0, 0, 0))
        out[g.goid] = GoroutineWait(g, waiting_on(target, g, extra, namer), labels_at(target, extra.labels))
    return out


def streamed_waits(target: Target, gs: Iterable[G], stacks: Callable[[], Stacks],
                   chunk: int = WAITS_CHUNK) -> Iterator[GoroutineWait]:
    """goroutine_waits over many goroutines a chunk at a time, keeping nothing per
    goroutine between chunks; ``stacks`` gives the stacks that may name an object (asked
    for once, when a name needs them). Object names are memoized across chunks."""
    namer = Namer(target, stacks)
    for buf in chunked(gs, chunk):
        yield from goroutine_waits(target, buf, namer, keep=False).values()


def chunked(items: Iterable[_T], size: int = WAITS_CHUNK) -> Iterator[list[_T]]:
    """``items`` in lists of ``size`` (the last one shorter, none empty)."""
    buf: list[_T] = []
    for item in items:
        buf.append(item)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf


def read_sudog_safe(target: Target, addr: int) -> Sudog | None:
    try:
        return read_sudog(target, addr)
    except FaultError:
        return None
