"""Text for `headroom`."""

from __future__ import annotations

from godbg.render.table import human_bytes, table
from godbg.render.theme import Theme
from godbg.results.headroom import Headroom, HeadroomCheck

# A goroutine whose limit headroom is below this share of max_stack is shown in red.
DANGER_SHARE = 0.125


def render(answer: Headroom, theme: Theme) -> str:
    max_stack = answer.max_stack
    out = [
        f"maxstacksize {answer.maxstacksize} ({human_bytes(answer.maxstacksize)}); largest stack "
        f"{human_bytes(max_stack)}; stack guard {answer.stack_guard} bytes",
        "",
    ]
    if answer.check is not None:
        out += check_lines(answer.check, theme)
        out.append("")
    rows = []
    for g in answer.goroutines:
        lh = g.limit_headroom
        lh_text = human_bytes(lh)
        if lh is not None and lh < max_stack * DANGER_SHARE:
            lh_text = theme.bad(lh_text)
        rep, big = g.repeated, g.largest_frame
        rows.append([
            str(g.id), human_bytes(g.size), human_bytes(g.used), human_bytes(g.guard_headroom),
            lh_text, str(g.doublings_left), theme.func(g.deepest_function or "-"),
            f"{rep.function} ×{rep.times}" if rep else "",
            f"{big.function} {big.bytes} B" if big else "",
        ])
    out.append(table(rows, header=["goroutine", "size", "used", "to guard", "to limit", "doublings",
                                   "deepest", "recursion", "largest frame"], right=(1, 2, 3, 4, 5)))
    if answer.system:
        out += ["", theme.heading("system stacks (never grow)")]
        rows = [[f"M{s.m}", s.stack, human_bytes(s.size), human_bytes(s.used), human_bytes(s.guard_headroom)]
                for s in answer.system]
        out.append(table(rows, header=["M", "stack", "size", "used", "to guard"], right=(2, 3, 4)))
    return "\n".join(out)


def check_lines(check: HeadroomCheck, theme: Theme) -> list[str]:
    if not check.findings:
        return [theme.good(f"ok: every goroutine has at least {check.bytes} bytes before the limit")]
    return [theme.bad(f"goroutine {f.id}: {f.limit_headroom} bytes from a stack overflow (below {check.bytes}; "
                      f"size {human_bytes(f.size)}, used {human_bytes(f.used)}"
                      f"{', in ' + f.function if f.function else ''})") for f in check.findings]
