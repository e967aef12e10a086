"""Each rule of `check`, evaluated over the decoders: a RuleResult with its findings (none:
the rule holds). A rule that cannot be evaluated raises a GodbgError (exit 2)."""

from __future__ import annotations

from godbg.check.settings import (
    HEADROOM,
    MAX_GOROUTINES,
    MAX_WAIT,
    NO_LEAKS,
    NO_PANIC,
    Rules,
    format_duration,
)
from godbg.errors import UnsupportedError
from godbg.program.target import Target
from godbg.results.check import CheckReport, Finding, RuleResult
from godbg.runtime import goroutines as rg
from godbg.runtime.g import G_WAITING, status_name, wait_reason
from godbg.runtime.headroom import headroom
from godbg.runtime.layouts import layout
from godbg.runtime.panics import panic_path


def max_goroutines(target: Target, limit: int) -> RuleResult:
    # The goroutines Go's own traceback lists: every one but the dead (as `info` counts them).
    count = len(rg.live_gs(target))
    findings: tuple[Finding, ...] = ()
    if count > limit:
        findings = (Finding(MAX_GOROUTINES, f"{count} goroutines, more than {limit}"),)
    return RuleResult(MAX_GOROUTINES, str(limit), findings)


def stack_headroom(target: Target, limit: int) -> RuleResult:
    answer, _goroutines = headroom(target, below=limit)
    findings = []
    for g in answer.check.findings if answer.check is not None else ():  # closest to the limit first
        where = f" in {g.function}" if g.function else ""
        findings.append(Finding(HEADROOM, f"goroutine {g.id}{where} is {g.limit_headroom} bytes from a fatal stack "
                                          f"overflow (less than {limit})", g.id))
    return RuleResult(HEADROOM, str(limit), tuple(findings))


def no_panic(target: Target) -> RuleResult:
    path = panic_path(target)
    findings = []
    if path.fatal_error is not None:
        findings.append(Finding(NO_PANIC, f"fatal error: {path.fatal_error}", path.goroutine))
    for p in path.panics:
        if p.recovered or p.goexit:
            continue
        typed = f" ({p.type})" if p.type and p.type != "string" else ""
        findings.append(Finding(NO_PANIC, f"goroutine {path.goroutine} panicked: {p.text}{typed}", path.goroutine))
    return RuleResult(NO_PANIC, "true", tuple(findings))


def no_leaks(target: Target) -> RuleResult:
    from godbg.runtime.leaks import find_leaks  # the heap scan's modules load only when asked

    found = find_leaks(target)
    findings = [Finding(NO_LEAKS, f"goroutine {leak.goroutine} leaked: {leak.reason or 'blocked forever'}",
                        leak.goroutine) for leak in found.leaked]
    if found.deadlock:
        findings.append(Finding(NO_LEAKS, "deadlock: no goroutine can ever run again"))
    return RuleResult(NO_LEAKS, "true", tuple(findings))


def runtime_now(target: Target) -> int | None:
    """The latest nanotime the runtime wrote down: the last GC's end or sysmon's last poll.
    A core holds no clock, so waits measured against it are lower bounds."""
    stamps = []
    try:
        stats = layout(target, "runtime.mstats")
        stamps.append(target.memory.u64(target.symbol_address("runtime.memstats") + stats.off("last_gc_nanotime")))
    except UnsupportedError:
        pass
    sched = layout(target, "runtime.schedt")
    path = "lastpoll.value" if sched.has("lastpoll.value") else "lastpoll"
    stamps.append(target.memory.i64(target.symbol_address("runtime.sched") + sched.off(path)))
    best = max(stamps)
    return best if best > 0 else None


def max_wait(target: Target, limit_ns: int) -> RuleResult:
    """Goroutines blocked longer than the limit. The runtime stamps g.waitsince at the first
    GC after a goroutine parks (Go's traceback prints "N minutes" from it), so a wait that
    began after the last GC is not measured."""
    now = runtime_now(target)
    findings = []
    if now is not None:
        for g in rg.live_gs(target):
            if g.base_status != G_WAITING or not g.waitsince or g.waitsince > now:
                continue
            waited = now - g.waitsince
            if waited > limit_ns:
                reason = wait_reason(target, g) or status_name(target, g.status)
                findings.append(Finding(MAX_WAIT, f"goroutine {g.goid} has waited at least {format_duration(waited)} "
                                                  f"({reason}), longer than {format_duration(limit_ns)}", g.goid))
    return RuleResult(MAX_WAIT, format_duration(limit_ns), tuple(findings))


def evaluate(target: Target, rules: Rules) -> CheckReport:
    """Every rule asked for, in the order of RULE_NAMES."""
    results = []
    if rules.max_goroutines is not None:
        results.append(max_goroutines(target, rules.max_goroutines))
    if rules.headroom is not None:
        results.append(stack_headroom(target, rules.headroom))
    if rules.no_leaks:
        results.append(no_leaks(target))
    if rules.no_panic:
        results.append(no_panic(target))
    if rules.max_wait is not None:
        results.append(max_wait(target, rules.max_wait))
    return CheckReport(tuple(results))
