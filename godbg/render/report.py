"""Text for `report`: what happened in the first lines, then each section in the
layout of its own command."""

from __future__ import annotations

from dataclasses import replace

from godbg.render import bt as bt_text
from godbg.render import goroutines as goroutines_text
from godbg.render import headroom as headroom_text
from godbg.render import info as info_text
from godbg.render import leaks as leaks_text
from godbg.render import ms as ms_text
from godbg.render import panic_text
from godbg.render import waits as waits_text
from godbg.render.table import human_bytes
from godbg.render.theme import Theme
from godbg.results.report import Report

RULE = "─" * 72


def _section(title: str, body: str, theme: Theme) -> list[str]:
    return ["", theme.heading(f"── {title} ") + theme.location(RULE[len(title) + 4:]), body]


def render(report: Report, theme: Theme) -> str:
    info = report.info
    out = [theme.bad(report.headline)]
    where = [f"{info.go_version} {info.goarch}"]
    if info.snapshot:
        where.append(f"snapshot, thread {info.crash_thread}")
    elif info.signal:
        where.append(f"signal {info.signal} on thread {info.crash_thread}")
    panic, crashing = report.panic, report.crashing_goroutine
    if crashing is not None:
        where.append(f"goroutine {crashing.goroutine}")
    out.append(theme.location(", ".join(where)) + theme.location(f"  ({report.binary})"))
    so = report.stack_overflow
    if so is not None:
        frames = f" ({so.frame_bytes}-byte frames)" if so.frame_bytes else ""
        out.append(theme.bad(
            f"goroutine {so.goroutine} outgrew its stack: {human_bytes(so.size)} in use, the largest "
            f"maxstacksize {so.maxstacksize} allows; {so.function} is on it {so.depth} times{frames}"))
    told = panic is not None and bool(panic.panics or panic.fatal_error or panic.defers)
    if told and panic is not None:
        out += _section("panic path", panic_text.render(panic, theme), theme)
    elif crashing is not None:
        out += _section("crashing goroutine", bt_text.render(crashing, theme), theme)
    # A crash in C code: the panic path's frames are the goroutine's; show the M's too.
    if told and crashing is not None and any(f.object for f in crashing.frames):
        out += _section("crashing goroutine", bt_text.render(crashing, theme), theme)
    groups = report.groups
    if groups is not None and groups.groups:
        out += _section(f"goroutines ({groups.total} in {groups.total_groups} groups)",
                        goroutines_text.render(groups, theme), theme)
    if report.headroom is not None:
        out += _section("stack headroom (closest to the limit)",
                        headroom_text.render(replace(report.headroom, system=()), theme), theme)
    if report.waits is not None and report.waits.objects:
        out += _section("who waits for whom (largest wait objects)",
                        "\n".join(waits_text.object_lines(report.waits.objects, theme)), theme)
    leaks = report.leaks
    if leaks is not None and (leaks.leaked or leaks.deadlock):
        out += _section(f"leaked goroutines ({len(leaks.leaked)})", "\n".join(leaks_text.leak_lines(leaks, theme)),
                        theme)
    if report.ms is not None and report.ms.ms:
        out += _section("Ms", ms_text.render(report.ms, theme), theme)
    out += _section("build", info_text.render(info, theme), theme)
    if report.notes:
        out += _section("notes", "\n".join(theme.warn(f"- {n}") for n in report.notes), theme)
    return "\n".join(out)
