"""godbg: see inside the Go runtime from gdb, delve or a bare core file."""

__version__ = "0.1.0"
