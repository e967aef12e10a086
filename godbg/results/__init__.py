"""What godbg answers, as frozen dataclasses with typed fields: the Python API returns
them, the commands print them (text from ``godbg.render``, JSON from their ``to_json()``,
which is exactly the command's --json document). Pure data: this package imports
nothing of godbg's but itself."""

from godbg.results.base import JSON, Result
from godbg.results.frames import Frame, Variable
from godbg.results.info import FatalSignal, Info
from godbg.results.ms import M, Ms
from godbg.results.stacks import StackFigures
from godbg.results_old import (  # TRANSITION
    Backtrace,
    Defer,
    Goroutine,
    GoroutineHeadroom,
    Goroutines,
    Headroom,
    MapContents,
    Panic,
    PanicPath,
)

__all__ = [
    "JSON", "Result", "Frame", "Variable", "FatalSignal", "Info", "M", "Ms", "StackFigures",
    "Backtrace", "Defer", "Goroutine", "GoroutineHeadroom", "Goroutines", "Headroom", "MapContents", "Panic",
    "PanicPath",
]
