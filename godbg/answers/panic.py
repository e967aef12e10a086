"""`panic`: the panic path of the panicking goroutine."""

from __future__ import annotations

from godbg.program.target import Target
from godbg.results.panic import PanicPath
from godbg.runtime.panics import panic_path


def panic(target: Target) -> PanicPath:
    """The panic chain oldest first as Go prints it, the deferred calls with their state,
    the goroutine's frames, and the fatal error or signal that ended the program."""
    return panic_path(target)
