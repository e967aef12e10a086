"""`info`: which Go, which map implementation, how many goroutines and Ms, the stack
limits, and for a core the signal and the crashing thread."""

from __future__ import annotations

import argparse

from godbg.answers.info import info
from godbg.commands.base import Outcome
from godbg.program.target import Target

NAME = "info"
HELP = ("Go version, GOARCH, map implementation, GOEXPERIMENTs, goroutine and M counts, maxstacksize, "
        "the stack guard, for a core the signal and the crashing thread, the signal Go handled first, whether the "
        "core is a snapshot of a process that had not crashed, a PIE's load bias, and whether the binary is "
        "stripped (no DWARF or no symbol table) with what that costs.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(target: Target, args: argparse.Namespace) -> Outcome:
    return Outcome(NAME, info(target))


DOC = """
## JSON

```json
{"go_version": "go1.27.3", "goarch": "amd64", "map_impl": "swiss", "goexperiments": [],
 "goroutines": 7, "ms": 7, "maxstacksize": 1000000000, "stack_guard": 928,
 "signal": "SIGABRT", "crash_thread": 15912,
 "fatal_signal": {"signal": "SIGSEGV", "code": 1, "addr": "0x0", "pc": "0x527da0", "function": "c_deref",
                  "in_cgo": true, "m": 3, "description": "SIGSEGV: segmentation violation",
                  "goroutine": 1, "source": "signal frame",
                  "printed": ["SIGSEGV: segmentation violation", "PC=0x527da0 m=3 sigcode=1 addr=0x0",
                              "signal arrived during cgo execution"]},
 "snapshot": false, "stripped": false, "notes": []}
```

- `signal` is what the kernel (or gdb) recorded: with `GOTRACEBACK=crash` Go re-raises
  SIGABRT after it handled the real signal. `fatal_signal` is that real signal, as Go printed
  it: read from the first signal frame on the dying M's gsignal stack (the kernel's siginfo
  and ucontext; `source: "signal frame"`), or, for a fault Go turned into a panic (a nil
  dereference in Go code), from the panicking goroutine's `g.sig` (`source: "goroutine"`,
  Go's `[signal …]` line). `addr` only for SIGSEGV and SIGBUS, as Go prints it; `function` is
  the Go function at `pc`, or the ELF symbol of C code (the executable's, or a shared
  library's from the core's file mappings); `in_cgo` when the signal interrupted a cgo call.
  null when no signal started the crash (a panic, a throw) and on a live target.
- `snapshot`: a core of a process that had not crashed (gdb's `gcore` of a running or
  stopped process: `signal` is a debugger's stop signal such as SIGSTOP or SIGTRAP, no
  signal being handled, no M throwing).
"""

