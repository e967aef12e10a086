"""Text for `report`: what happened in the first lines, then each section in the
layout of its own command."""

from __future__ import annotations

from typing import Any

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

RULE = "─" * 72


def _section(title: str, body: str, theme: Theme) -> list[str]:
    return ["", theme.heading(f"── {title} ") + theme.location(RULE[len(title) + 4:]), body]


def render(data: dict[str, Any], theme: Theme) -> str:
    info = data.get("info") or {}
    out = [theme.bad(data["headline"])]
    where = []
    if info:
        where.append(f"{info['go_version']} {info['goarch']}")
        if info.get("snapshot"):
            where.append(f"snapshot, thread {info.get('crash_thread')}")
        elif info.get("signal"):
            where.append(f"signal {info['signal']} on thread {info.get('crash_thread')}")
    panic = data.get("panic")
    crashing = data.get("crashing_goroutine")
    if crashing:
        where.append(f"goroutine {crashing['goroutine']}")
    if where:
        out.append(theme.location(", ".join(where)) + theme.location(f"  ({data['binary']})"))
    so = data.get("stack_overflow")
    if so:
        frames = f" ({so['frame_bytes']}-byte frames)" if so.get("frame_bytes") else ""
        out.append(theme.bad(
            f"goroutine {so['goroutine']} outgrew its stack: {human_bytes(so['size'])} in use, the largest "
            f"maxstacksize {so['maxstacksize']} allows; {so['function']} is on it {so['depth']} times{frames}"))
    if panic and (panic.get("panics") or panic.get("fatal_error") or panic.get("defers")):
        out += _section("panic path", panic_text.render(panic, theme), theme)
    elif crashing:
        out += _section("crashing goroutine", bt_text.render(crashing, theme), theme)
    native = crashing is not None and bool(crashing) and any(f.get("object") for f in crashing["frames"])
    if panic and crashing and (panic.get("frames") is None or native) and (
            panic.get("panics") or panic.get("fatal_error") or panic.get("defers")):
        out += _section("crashing goroutine", bt_text.render(crashing, theme), theme)
    groups = data.get("groups")
    if groups:
        total, ngroups = data.get("goroutine_count"), data.get("group_count")
        out += _section(f"goroutines ({total} in {ngroups} groups)", goroutines_text.render(
            {"groups": groups, "total": total, "total_groups": ngroups}, theme), theme)
    if data.get("headroom"):
        out += _section("stack headroom (closest to the limit)", headroom_text.render(
            {**data["headroom"], "system": []}, theme), theme)
    if data.get("waits"):
        out += _section("who waits for whom (largest wait objects)",
                        "\n".join(waits_text.object_lines(data["waits"], theme)), theme)
    leaks = data.get("leaks")
    if leaks and (leaks.get("leaked") or leaks.get("deadlock")):
        out += _section(f"leaked goroutines ({len(leaks['leaked'])})",
                        "\n".join(leaks_text.leak_lines(leaks, theme)), theme)
    if data.get("ms"):
        out += _section("Ms", ms_text.render({"ms": data["ms"]}, theme), theme)
    if info:
        out += _section("build", info_text.render(info, theme), theme)
    if data.get("notes"):
        out += _section("notes", "\n".join(theme.warn(f"- {n}") for n in data["notes"]), theme)
    return "\n".join(out)
