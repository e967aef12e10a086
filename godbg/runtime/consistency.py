"""Does the memory belong to this binary, loaded where godbg thinks? Checked once per
stop before any command answers, so that a core paired with the wrong executable, or a
PIE read at the wrong load offset, ends with one line (exit 2) instead of "0 goroutines".

Three facts that only agree when both the binary and its load offset are right:
- ``runtime.firstmoduledata`` starts with the address of the pclntab (a pointer the
  dynamic loader relocated, in a page every PIE core holds);
- ``runtime.buildVersion`` is the version string the binary's ``.go.buildinfo`` records;
- a process that has threads has goroutines: ``runtime.allglen`` is not zero (the
  runtime writes it, so it cannot come from the binary's file image)."""

from __future__ import annotations

from godbg.errors import BadInputError, FaultError, GodbgError, TargetError, UnsupportedError
from godbg.program.target import Target
from godbg.runtime import version

# The longest version string believed (go1.NN.N plus experiments).
MAX_VERSION_LEN = 256


def check(target: Target) -> None:
    """Raise TargetError (one line) when the memory does not match the binary."""
    target.memo("consistency", lambda: _checked(target))


def _checked(target: Target) -> bool:
    _check(target)
    return True


def _where(target: Target) -> str:
    b = target.binary
    if b.is_pie:
        return f"{b.path} loaded at offset {b.load_bias:#x}"
    return b.path


def _mismatch(target: Target, what: str) -> TargetError:
    why = "wrong binary, or wrong load offset?" if target.binary.is_pie else "wrong binary?"
    return TargetError(f"memory does not match {_where(target)}: {what} ({why})")


def _global(target: Target, name: str) -> int | None:
    try:
        return target.symbol_address(name)
    except (BadInputError, UnsupportedError):
        return None


def _pclntab_address(target: Target) -> int | None:
    sec = target.binary.pclntab_section
    if sec is not None and sec.addr:
        return sec.addr
    sym = target.binary.symbol("runtime.pclntab")
    return sym.addr if sym is not None else None


def _check(target: Target) -> None:
    # A release godbg does not read is named as such, not as a mismatch.
    version.gate(target)
    md = _global(target, "runtime.firstmoduledata")
    pcln = _pclntab_address(target)
    if md is not None and pcln is not None:
        try:
            first = target.memory.ptr(md)
        except FaultError:
            raise _mismatch(target, f"runtime.firstmoduledata ({md:#x}) is not in its memory") from None
        if first != pcln:
            raise _mismatch(target, f"runtime.firstmoduledata ({md:#x}) points to {first:#x}, "
                                    f"not to the pclntab at {pcln:#x}")
    bv = _global(target, "runtime.buildVersion")
    if bv is not None:
        try:
            want = target.binary.buildinfo.version
        except GodbgError:
            want = None
        if want is not None:
            try:
                got = target.memory.gostring(bv, MAX_VERSION_LEN)
            except (FaultError, GodbgError, UnicodeError):
                got = None
            if got != want:
                shown = "unreadable" if got is None else repr(got[:40])
                raise _mismatch(target, f"runtime.buildVersion is {shown}, the binary says {want!r}")
    _check_started(target)


def _check_started(target: Target) -> None:
    allglen = _global(target, "runtime.allglen")
    if allglen is None:
        return
    try:
        count = target.memory.u64(allglen)
    except FaultError:
        raise _mismatch(target, f"runtime.allglen ({allglen:#x}) is not in its memory") from None
    if count:
        return
    threads = len(target.threads())
    if threads:
        raise TargetError(
            f"the process has {threads} thread(s) but no goroutines "
            f"(runtime.allglen is 0): the Go runtime had not started, or the memory does not match "
            f"{_where(target)}")
