"""A stack's bounds and figures, as `goroutines` and `ms` give them."""

from __future__ import annotations

from dataclasses import dataclass

from godbg.results.base import JSON, Result


@dataclass(frozen=True, init=False)
class StackFigures(Result):
    lo: int
    hi: int
    sp: int | None  # None: not in use (or SP outside the bounds)
    size: int
    used: int | None  # hi - sp
    guard_headroom: int | None  # sp - (lo + stack guard)

    def __init__(self, lo: int, hi: int, sp: int | None, size: int, used: int | None,
                 guard_headroom: int | None) -> None:
        # One a goroutine in a listing of 100,000: set at once, not field by field through
        # object.__setattr__ as the frozen dataclass's own __init__ would.
        object.__setattr__(self, "__dict__", {"lo": lo, "hi": hi, "sp": sp, "size": size, "used": used,
                                              "guard_headroom": guard_headroom})

    @classmethod
    def at(cls, lo: int, hi: int, sp: int | None, guard: int) -> StackFigures:
        """The figures of a stack [lo, hi) whose SP is ``sp`` (outside the bounds: unknown)."""
        inside = sp is not None and lo <= sp <= hi and lo < hi
        return cls(lo, hi, sp if inside else None, hi - lo if hi > lo else 0,
                   hi - sp if inside and sp is not None else None,
                   sp - (lo + guard) if inside and sp is not None else None)

    def to_json(self) -> JSON:
        return {"lo": self.lo, "hi": self.hi, "sp": self.sp, "size": self.size, "used": self.used,
                "guard_headroom": self.guard_headroom}
