"""`bt GOID` / `bt --m MID`: the backtrace of any goroutine, or of an M's system stack,
unwound by godbg from memory alone (registers are never written), as Go's own
GOTRACEBACK=crash traceback prints it: inlined calls as frames of their own."""

from __future__ import annotations

import argparse
from typing import Any

from godbg.commands.base import Outcome, positive_int
from godbg.errors import BadInputError, GodbgError
from godbg.program.target import Target
from godbg.runtime import g as rg_g
from godbg.runtime import goroutines as rg
from godbg.runtime import m as rm_m
from godbg.runtime import stack as rstack
from godbg.runtime.unwind import elide, unwinder
from godbg.runtime.waits import goroutine_waits

NAME = "bt"
HELP = ("Backtrace of goroutine GOID (or of M MID's g0 stack with --m) without touching the inferior's "
        "registers or memory; frames agree with Go's own crash traceback, inlined calls included.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("goid", nargs="?", type=positive_int, metavar="GOID", help="the goroutine's id")
    parser.add_argument("--m", dest="mid", type=positive_int, metavar="MID",
                        help="walk this M's system stacks (gsignal when in a signal handler, then g0)")
    parser.add_argument("--full", action="store_true",
                        help="add each frame's arguments and locals, from DWARF locations (value or why unavailable)")


def run(target: Target, args: argparse.Namespace) -> Outcome:
    if (args.goid is None) == (args.mid is None):
        raise BadInputError("bt: give a goroutine id, or --m MID (not both)")
    if args.mid is not None:
        return _bt_m(target, args.mid)
    return _bt_goroutine(target, args.goid, args.full, args.json)


def _bt_goroutine(target: Target, goid: int, full: bool = False, json_output: bool = False) -> Outcome:
    g = rg.find_goroutine(target, goid)
    if g is None:
        raise BadInputError(f"no goroutine {goid} (see `goroutines`)")
    u = unwinder(target)
    stack = rstack.goroutine_stack(target, g)
    frames, elided = elide(stack.logical(u))
    for note in stack.notes:
        target.warn(f"goroutine {goid}: {note}")
    m = stack.m
    data = {
        "goroutine": g.goid,
        "status": rg_g.status_name(target, g.status),
        "wait_reason": rg_g.wait_reason(target, g),
        "m": m.id if m is not None else None,
        "start": stack.start.source if stack.start is not None else None,
        "frames": [_frame_json(target, f, i == 0, full, json_output) for i, f in enumerate(frames)],
        "elided": elided,
        "stop": stack.stop,
        "created_by": rg.func_name_at(target, g.gopc) if g.goid != rg.MAIN_GOID else None,
        "parent_goid": g.parent_goid or None,
    }
    w = goroutine_waits(target, [g]).get(g.goid)
    data["labels"] = w.labels if w is not None else {}
    data["waiting_on"] = w.waiting_on.to_json() if w is not None and w.waiting_on is not None else None
    return Outcome(NAME, data)


def _frame_json(target: Target, frame: Any, innermost: bool, full: bool, json_output: bool) -> dict[str, Any]:
    out: dict[str, Any] = frame.to_json()
    if not full:
        return out
    from godbg.commands.print_cmd import DEFAULT_DEPTH, DEFAULT_JSON_ELEMENTS, DEFAULT_TEXT_ELEMENTS, MAX_NESTING
    from godbg.values.frames import frame_variables
    from godbg.values.model import Limits

    limits = Limits(depth=MAX_NESTING, elems=DEFAULT_JSON_ELEMENTS if json_output else DEFAULT_TEXT_ELEMENTS,
                    pointers=DEFAULT_DEPTH)
    try:
        vs = frame_variables(target, frame, innermost) or []
    except GodbgError as e:
        target.warn(f"bt --full: {e}")
        vs = []
    out["args"] = [v.to_json(target, limits) for v in vs if v.is_arg]
    out["locals"] = [v.to_json(target, limits) for v in vs if not v.is_arg]
    return out


def _bt_m(target: Target, mid: int) -> Outcome:
    ms = rm_m.all_ms(target)
    m = next((x for x in ms if x.id == mid), None)
    if m is None:
        raise BadInputError(f"no M {mid} (Ms: {', '.join(str(x.id) for x in sorted(ms, key=lambda x: x.id))})")
    u = unwinder(target)
    phys, _sp, stop = rstack.m_system_frames(target, m)
    frames, elided = elide(rstack.system_logical(u, phys))
    curg = None
    if m.curg:
        try:
            curg = rg_g.read_g(target, m.curg).goid
        except GodbgError:  # a bad curg pointer only loses this field
            curg = None
    thread = rm_m.thread_of(target, m)
    data = {
        "goroutine": None,
        "m": m.id,
        "thread": thread.tid if thread is not None else (m.procid or None),
        "curg": curg,
        "frames": [f.to_json() for f in frames],
        "elided": elided,
        "stop": stop,
    }
    return Outcome(NAME, data)


DOC = """
## JSON

```json
{"goroutine": 18, "status": "waiting", "wait_reason": "chan receive", "m": null, "start": "sched",
 "frames": [{"function": "runtime.gopark", "file": "/usr/lib/go/src/runtime/proc.go", "line": 474,
             "pc": "0x4793ea", "sp": "0x347ef5c8ddd0", "inlined": false}],
 "elided": 0, "stop": "top", "created_by": "main.main.func1", "parent_goid": 1}
```

- Frames innermost first, as Go's `GOTRACEBACK=crash` traceback prints them: inlined calls are
  frames of their own (`inlined: true`, with their physical frame's pc and sp); `pc` is the
  return address for callers, the interrupted pc for a trapped frame.
- A goroutine whose thread is in a signal handler or on its g0 stack starts with those system
  frames, each marked `"stack": "gsignal"` or `"g0"`; its own frames follow, from the kernel's
  signal frame (`start: "signal"`) or from where `systemstack`/`morestack` saved them.
  `start` is also `"sched"`, `"syscall"`, `"thread"` or `"vdso"`.
- Deep stacks keep their 500 innermost and 500 outermost frames; `elided` counts the rest.
  `stop` says why the walk ended: `top` (goexit, mstart), `spwrite`, `bad-return-pc`, `fault`…
- `--full`: every frame gains `"args"` and `"locals"`, lists of `{"name", "type", "value"}` or
  `{"name", "type", "unavailable": why}` (values by `print`'s rules). They come from DWARF location
  expressions and lists, read only from stack memory: a value DWARF keeps in a register at that pc
  is unavailable, never a register's later contents. Inlined frames list none.
- `bt --m MID`: the M's gsignal frames (when in a signal handler) and g0 frames, with `m`,
  `thread` and `curg` instead of `goroutine`. A thread inside C code (a cgo call, or a
  signal that arrived there) continues through the signal frame into its C frames, unwound
  with the CFI of the file holding each pc (`.eh_frame`/`.debug_frame` of the executable, or
  of a shared library named in the core's file mappings when the same file, by build id, is
  on this machine; the frame-pointer chain otherwise), down to `runtime.asmcgocall`. C
  frames carry `"object"` (the ELF file's name); their `function` comes from the ELF symbol
  table and `file`/`line` from DWARF where the C code has it (else `""` and 0).
"""
