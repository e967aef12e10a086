"""godbg: see inside the Go runtime from gdb, delve or a bare core file.

The Python API (docs/api.md): ``godbg.open_core(binary, core)``, ``godbg.open_delve(binary,
core)`` and, inside gdb, ``godbg.gdb_program()`` return a ``Program``, whose answers are the
typed dataclasses of ``godbg.results``."""

__version__ = "0.1.0"

from godbg import results  # noqa: E402
from godbg.api import Program, gdb_program, open_core, open_delve  # noqa: E402

__all__ = ["Program", "gdb_program", "open_core", "open_delve", "results", "__version__"]
