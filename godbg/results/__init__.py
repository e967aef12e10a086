"""What godbg answers, as frozen dataclasses with typed fields: the Python API returns
them, the commands print them (text from ``godbg.render``, JSON from their ``to_json()``,
which is exactly the command's --json document). Pure data: this package imports
nothing of godbg's but itself."""

from godbg.results.base import JSON, Result
from godbg.results.bt import Backtrace
from godbg.results.check import CheckReport, Finding, RuleResult
from godbg.results.frames import Frame, SourceFrame, Variable
from godbg.results.goroutines import Goroutine, GoroutineGroup, GoroutineGroups, Goroutines
from godbg.results.headroom import (
    GoroutineHeadroom,
    Headroom,
    HeadroomCheck,
    HeadroomFinding,
    LargestFrame,
    RepeatedFunction,
    SystemStack,
)
from godbg.results.info import FatalSignal, Info
from godbg.results.maps import ClassicStats, MapContents, NilMapStats, SwissStats, SwissTable, TophashCounts
from godbg.results.ms import M, Ms
from godbg.results.panic import Defer, Panic, PanicPath, ReplayEnd
from godbg.results.report import Report, StackOverflow
from godbg.results.stacks import StackFigures
from godbg.results.values import Chan, ChanSender, Location, Value
from godbg.results.waits import (
    ChanRef,
    ChanState,
    CondState,
    Leak,
    Leaks,
    LeakStats,
    MutexState,
    RWMutexState,
    SemaphoreState,
    UnreadableState,
    WaitGroupState,
    WaitingOn,
    WaitObject,
    Waits,
)

__all__ = [
    "JSON", "Result",
    "Info", "FatalSignal",
    "Goroutines", "Goroutine", "GoroutineGroups", "GoroutineGroup", "StackFigures",
    "Backtrace", "Frame", "SourceFrame", "Variable",
    "Ms", "M",
    "Headroom", "GoroutineHeadroom", "RepeatedFunction", "LargestFrame", "SystemStack", "HeadroomCheck",
    "HeadroomFinding",
    "MapContents", "ClassicStats", "SwissStats", "SwissTable", "TophashCounts", "NilMapStats",
    "Value", "Location", "Chan", "ChanSender",
    "PanicPath", "Panic", "Defer", "ReplayEnd",
    "Waits", "WaitObject", "WaitingOn", "ChanRef", "MutexState", "RWMutexState", "WaitGroupState", "ChanState",
    "CondState", "SemaphoreState", "UnreadableState",
    "Leaks", "Leak", "LeakStats",
    "CheckReport", "RuleResult", "Finding",
    "Report", "StackOverflow",
]
