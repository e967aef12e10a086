"""`info`: which Go, which map implementation, how many goroutines and Ms, the stack
limits, and for a core the signal and the crashing thread."""

from __future__ import annotations

import argparse
from collections import Counter

from godbg.commands.base import Outcome
from godbg.errors import FaultError, GodbgError
from godbg.runtime import allgs as rt
from godbg.runtime import version
from godbg.runtime.layouts import layout
from godbg.target.target import Target

NAME = "info"
HELP = ("Go version, GOARCH, map implementation, GOEXPERIMENTs, goroutine and M counts, maxstacksize, "
        "the stack guard, and for a core the signal and the crashing thread.")

# runtime/stack.go: stackGuard = stackNosplit + stackSystem + abi.StackSmall with
# stackNosplit = 800 * stackGuardMultiplier; 928 on linux without -race.
STACK_NOSPLIT_BASE = 800
STACK_SMALL = 128
# stackguard0 sentinels (runtime/stack.go): not a real guard, skip when measuring.
STACK_PREEMPT = 0xFFFFFFFFFFFFFADE
STACK_FORK = 0xFFFFFFFFFFFFFB2E
STACK_FORCE_MOVE = 0xFFFFFFFFFFFFFEED
GUARD_SENTINELS = (STACK_PREEMPT, STACK_FORK, STACK_FORCE_MOVE)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(target: Target, args: argparse.Namespace) -> Outcome:
    rel = version.check_supported(target)
    data = {
        "go_version": rel.version,
        "goarch": target.goarch,
        "map_impl": version.map_impl(target),
        "goexperiments": list(rel.experiments),
        "goroutines": rt.live_goroutine_count(target),
        "ms": len(rt.allm(target)),
        "maxstacksize": maxstacksize(target),
        "stack_guard": stack_guard(target),
        "signal": target.signal.name if target.signal else None,
        "crash_thread": target.crash_thread,
    }
    return Outcome(NAME, data)


def maxstacksize(target: Target) -> int:
    """The limit in force: runtime.main sets it, debug.SetMaxStack changes it."""
    return target.memory.u64(target.symbol_address("runtime.maxstacksize"))


def stack_guard(target: Target) -> int:
    """The guard of this build, measured: stackguard0 - stack.lo of goroutines whose
    guard is not a preemption/fork sentinel (the most common value). Falls back to the
    build's constant (doubled with -race) when no goroutine tells."""

    def compute() -> int:
        lay = layout(target, "runtime.g")
        lo_off, guard_off = lay.off("stack.lo"), lay.off("stackguard0")
        seen: Counter[int] = Counter()
        for g in rt.allgs(target)[:4096]:
            try:
                if rt.is_dead(rt.g_status(target, g)):
                    continue
                lo = target.memory.u64(g + lo_off)
                guard = target.memory.u64(g + guard_off)
            except FaultError:
                continue
            if guard in GUARD_SENTINELS or not lo or guard <= lo:
                continue
            seen[guard - lo] += 1
        if seen:
            return seen.most_common(1)[0][0]
        race = target.has_symbol("runtime.racecall") or target.has_symbol("__tsan_init")
        return STACK_NOSPLIT_BASE * (2 if race else 1) + STACK_SMALL

    try:
        return target.memo("stack_guard", compute)
    except GodbgError:
        return STACK_NOSPLIT_BASE + STACK_SMALL
