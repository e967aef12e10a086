"""The limits a goroutine stack grows against: `runtime.maxstacksize` (set by
runtime.main, changed by debug.SetMaxStack) and `maxstackceiling`, and what they mean
for a stack of a given size. Facts from runtime/stack.go (newstack) and proc.go (main),
Go 1.22-1.27: a stack doubles (or more, for a big frame) on growth and the runtime
throws "stack overflow" when the new size would exceed maxstacksize or maxstackceiling."""

from __future__ import annotations

from dataclasses import dataclass

from godbg.errors import FaultError
from godbg.program.target import Target

# runtime/stack.go: the value before runtime.main runs, and the 64-bit setting.
INITIAL_MAXSTACKSIZE = 1 << 20
DEFAULT_MAXSTACKSIZE_64 = 1_000_000_000


@dataclass(frozen=True)
class StackLimits:
    maxstacksize: int
    maxstackceiling: int | None
    stack_guard: int

    @property
    def limit(self) -> int:
        """The byte limit newstack compares against: the smaller of the two."""
        if self.maxstackceiling:
            return min(self.maxstacksize, self.maxstackceiling)
        return self.maxstacksize

    @property
    def max_stack(self) -> int:
        """The largest stack the runtime will ever allocate: stacks are powers of two,
        so the largest power of two not above the limit."""
        return largest_pow2_at_most(self.limit)

    def limit_headroom(self, used: int) -> int:
        """How much more the stack can take before growing would pass the limit."""
        return self.max_stack - used - self.stack_guard

    def doublings_left(self, size: int) -> int:
        """How many more times a stack of ``size`` bytes can double."""
        if size <= 0:
            return 0
        n = 0
        while size * 2 <= self.max_stack and n < 64:
            size *= 2
            n += 1
        return n


def largest_pow2_at_most(n: int) -> int:
    return 1 << (n.bit_length() - 1) if n > 0 else 0


def read_limits(target: Target, stack_guard: int) -> StackLimits:
    mem = target.memory
    maxstacksize = mem.u64(target.symbol_address("runtime.maxstacksize"))
    ceiling: int | None = None
    if target.has_symbol("runtime.maxstackceiling"):
        try:
            ceiling = mem.u64(target.symbol_address("runtime.maxstackceiling"))
        except FaultError:
            ceiling = None
    return StackLimits(maxstacksize, ceiling, stack_guard)
