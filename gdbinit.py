"""Load godbg into gdb from a checkout: `source /path/to/godbg/gdbinit.py`
(see godbg/gdbinit.py, which does the work)."""

import os

_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "godbg", "gdbinit.py")
with open(_path) as _f:
    exec(compile(_f.read(), _path, "exec"), {"__file__": _path, "__name__": "godbg_gdbinit"})
