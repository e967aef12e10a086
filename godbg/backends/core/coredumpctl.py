"""`godbg core BIN --coredump PID|latest`: the core from systemd-coredump's store, taken
out with `coredumpctl dump --output=FILE` (which decompresses it). The file is
unlinked as soon as the core reader has it open and mapped, so it costs disk only while
godbg runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from typing import Callable, TypeVar

from godbg.errors import BadInputError, TargetError

LATEST = "latest"
#: Taking a GiB core out of the journal's store can take a while; never forever.
DUMP_TIMEOUT = 900
INSTALL_HINT = ("--coredump needs systemd-coredump's `coredumpctl`, which is not on PATH here "
                "(see docs/cores.md for where this system keeps cores)")

T = TypeVar("T")


def matches(selector: str, binary: str) -> list[list[str]]:
    """coredumpctl's match arguments to try in turn: a PID, or for `latest` the newest
    core of this executable, then the newest of all (the binary given may be a copy of
    the one that crashed, e.g. the unstripped build of a stripped deployment)."""
    if selector == LATEST:
        return [[f"COREDUMP_EXE={os.path.realpath(binary)}"], []]
    if selector.isdigit() and int(selector) > 0:
        return [[selector]]
    raise BadInputError(f"--coredump takes a process id or 'latest', not {selector!r}")


def with_coredump(selector: str, binary: str, use: Callable[[str], T]) -> T:
    """Dump the selected core into a temporary file, call ``use(path)`` (which opens it)
    and remove the file whatever happens."""
    tries = matches(selector, binary)
    tool = shutil.which("coredumpctl")
    if tool is None:
        raise TargetError(INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="godbg-coredump-") as tmp:
        path = os.path.join(tmp, "core")
        why = ""
        for match in tries:
            why = _dump(tool, path, match)
            if not why:
                return use(path)
        what = "no core of process " + selector if selector != LATEST else "no core"
        raise TargetError(f"coredumpctl has {what}: {why}")


def _dump(tool: str, path: str, match: list[str]) -> str:
    """Run `coredumpctl dump`; '' on success, else its last line of complaint."""
    cmd = [tool, "--no-pager", "--quiet", "dump", f"--output={path}", *match]
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=DUMP_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"`{' '.join(cmd)}` gave no core within {DUMP_TIMEOUT}s"
    except OSError as e:
        return f"cannot run {tool}: {e.strerror}"
    if p.returncode == 0 and os.path.exists(path) and os.path.getsize(path) > 0:
        return ""
    lines = [ln.strip() for ln in (p.stderr or p.stdout).splitlines() if ln.strip()]
    return lines[-1] if lines else f"exit status {p.returncode}"
