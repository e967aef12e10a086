"""godbg: see inside the Go runtime from gdb, delve or a bare core file.

The Python API (docs/api.md): ``godbg.open_core(binary, core)``, ``godbg.open_delve(binary,
core)`` and, inside gdb, ``godbg.gdb_program()`` return a ``Program``."""

__version__ = "0.1.0"

from godbg.api import Program, gdb_program, open_core, open_delve  # noqa: E402

__all__ = ["Program", "gdb_program", "open_core", "open_delve", "__version__"]
