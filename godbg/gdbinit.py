"""Load godbg into gdb: `source /path/to/gdbinit.py`.

gdb embeds the system's Python, not the one godbg was installed with, so this finds the
godbg package and its pure-Python dependencies (pyelftools, pygments) by itself:
  1. the directory holding the godbg package (a checkout, or a venv's site-packages,
     where pip put the dependencies next to it);
  2. GODBG_SITE_PACKAGES (os.pathsep-separated), $VIRTUAL_ENV, a .venv in the checkout,
     the venv of a `godbg` script on PATH, ~/.cache/godbg/venv.
"""

from __future__ import annotations

import glob
import os
import shutil
import site
import sys
from typing import Any


def _package_parent() -> str | None:
    here = os.path.dirname(os.path.abspath(__file__))
    if os.path.basename(here) == "godbg" and os.path.exists(os.path.join(here, "__init__.py")):
        return os.path.dirname(here)
    if os.path.isdir(os.path.join(here, "godbg")):
        return here
    return None


def _venv_site_packages(prefix: str | None) -> list[str]:
    if not prefix:
        return []
    return sorted(glob.glob(os.path.join(prefix, "lib", "python3*", "site-packages")))


def _candidates(parent: str | None) -> list[str]:
    out: list[str] = []
    for entry in os.environ.get("GODBG_SITE_PACKAGES", "").split(os.pathsep):
        if entry:
            out.append(entry)
    out += _venv_site_packages(os.environ.get("VIRTUAL_ENV"))
    if parent:
        out += _venv_site_packages(os.path.join(parent, ".venv"))
    script = shutil.which("godbg")
    if script:
        out += _venv_site_packages(os.path.dirname(os.path.dirname(os.path.realpath(script))))
        try:
            with open(script) as f:
                first = f.readline()
            if first.startswith("#!"):
                python = first[2:].strip().split()[0]
                out += _venv_site_packages(os.path.dirname(os.path.dirname(python)))
        except OSError:
            pass
    out += _venv_site_packages(os.path.expanduser("~/.cache/godbg/venv"))
    return out


def _deps_importable() -> bool:
    try:
        import elftools  # noqa: F401
        import pygments  # noqa: F401
    except ImportError:
        return False
    return True


def _setup_path() -> None:
    parent = _package_parent()
    if parent and parent not in sys.path:
        sys.path.insert(0, parent)
    for d in _candidates(parent):
        if _deps_importable():
            break
        if os.path.isdir(d) and d not in sys.path:
            site.addsitedir(d)
    if not _deps_importable():
        raise ImportError(
            "godbg: cannot import pyelftools/pygments in gdb's Python "
            f"({sys.executable} {sys.version.split()[0]}): install godbg into a venv and set "
            "GODBG_SITE_PACKAGES to its site-packages, or run scripts/setup.sh"
        )


def _load() -> None:
    try:
        _setup_path()
        from godbg.backends.gdb.setup import install

        install()
    except Exception as e:  # noqa: BLE001 - any failure to load must leave a usable `go`
        import gdb

        message = str(e) if str(e).startswith("godbg") else f"godbg: cannot load: {type(e).__name__}: {e}"
        message = message.splitlines()[0] if message else "godbg: cannot load"
        gdb.write(f"{message}\n", gdb.STDERR)
        _unloaded_go_command(gdb, message)


def _unloaded_go_command(gdb: Any, message: str) -> None:
    """Still take over `go` (gdb's alias of goto-bookmark): every `go …` repeats why
    godbg did not load, instead of gdb saying `invalid bookmark number 'info'`."""
    command: Any = gdb.Command

    class Go(command):
        """godbg did not load: `go` repeats why."""

        def __init__(self) -> None:
            super().__init__("go", gdb.COMMAND_USER, gdb.COMPLETE_NONE, True)

        def invoke(self, arg: str, from_tty: bool) -> None:
            raise gdb.GdbError(message)

    Go()


_load()
