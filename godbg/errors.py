"""The errors godbg speaks. Backends translate their own failures into these;
commands catch only GodbgError and print one line (exit status 2). Any other exception is
a bug in godbg (exit status 3)."""

from __future__ import annotations

# Exit statuses, the same in every backend ($godbg_status in gdb).
EXIT_OK = 0
EXIT_CHECK = 1  # a check (`check`, `headroom --check`) found a problem
EXIT_BAD_INPUT = 2  # bad input: a GodbgError, one line on stderr
EXIT_BUG = 3  # an unexpected Python exception: a bug in godbg


def bug_message(e: BaseException) -> str:
    """The one line for an unexpected exception: it is godbg's fault, and how to report it."""
    return (f"godbg: internal error (a bug in godbg): {type(e).__name__}: {e}; "
            "re-run with GODBG_DEBUG=1 and report the command and the traceback it prints")


class GodbgError(Exception):
    """Anything godbg reports to the user as one line, exit status 2."""


class FaultError(GodbgError):
    """Memory at ``address`` could not be read (unmapped, not in the core, corrupt pointer)."""

    def __init__(self, address: int, size: int = 0, why: str = "") -> None:
        self.address = address
        self.size = size
        detail = f" ({why})" if why else ""
        super().__init__(f"cannot read memory at {address:#x}{detail}")


class TargetError(GodbgError):
    """The target (binary, core, process, debugger) cannot answer: bad file, no thread, ..."""


class BadInputError(GodbgError):
    """The user's input is wrong: unknown variable, goroutine id, malformed expression."""


class UnsupportedError(GodbgError):
    """A Go release, architecture or binary layout godbg does not support."""


class CorruptError(GodbgError):
    """Runtime structures in memory do not make sense (cycles, wild counts)."""
