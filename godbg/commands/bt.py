"""`bt GOID` / `bt --m MID`: the backtrace of any goroutine, or of an M's system stack,
unwound by godbg from memory alone (registers are never written), as Go's own
GOTRACEBACK=crash traceback prints it: inlined calls as frames of their own."""

from __future__ import annotations

import argparse

from godbg.answers.bt import backtrace, m_backtrace, variable_limits
from godbg.commands.base import Outcome, positive_int
from godbg.errors import BadInputError
from godbg.program.target import Target
from godbg.values.model import DEFAULT_LIMITS

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
        return Outcome(NAME, m_backtrace(target, args.mid))
    limits = variable_limits(json_output=args.json) if args.full else DEFAULT_LIMITS
    return Outcome(NAME, backtrace(target, args.goid, full=args.full, limits=limits))


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
