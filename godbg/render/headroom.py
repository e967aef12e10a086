"""Text for `headroom`."""

from __future__ import annotations

from typing import Any

from godbg.render.table import human_bytes, table
from godbg.render.theme import Theme

# A goroutine whose limit headroom is below this share of max_stack is shown in red.
DANGER_SHARE = 0.125


def render(data: dict[str, Any], theme: Theme) -> str:
    max_stack = data["max_stack"]
    out = [
        f"maxstacksize {data['maxstacksize']} ({human_bytes(data['maxstacksize'])}); largest stack "
        f"{human_bytes(max_stack)}; stack guard {data['stack_guard']} bytes",
        "",
    ]
    check = data.get("check")
    if check is not None:
        if check["findings"]:
            for f in check["findings"]:
                out.append(theme.bad(
                    f"goroutine {f['id']}: {f['limit_headroom']} bytes from a stack overflow "
                    f"(below {check['bytes']}; size {human_bytes(f['size'])}, used {human_bytes(f['used'])}"
                    f"{', in ' + f['function'] if f['function'] else ''})"))
        else:
            out.append(theme.good(f"ok: every goroutine has at least {check['bytes']} bytes before the limit"))
        out.append("")
    rows = []
    for g in data["goroutines"]:
        lh = g["limit_headroom"]
        lh_text = human_bytes(lh)
        if lh is not None and lh < max_stack * DANGER_SHARE:
            lh_text = theme.bad(lh_text)
        rep = g["repeated"]
        big = g["largest_frame"]
        rows.append([
            str(g["id"]), human_bytes(g["size"]), human_bytes(g["used"]), human_bytes(g["guard_headroom"]),
            lh_text, str(g["doublings_left"]), theme.func(g["deepest_function"] or "-"),
            f"{rep['function']} ×{rep['times']}" if rep else "",
            f"{big['function']} {big['bytes']} B" if big else "",
        ])
    out.append(table(rows, header=["goroutine", "size", "used", "to guard", "to limit", "doublings",
                                   "deepest", "recursion", "largest frame"], right=(1, 2, 3, 4, 5)))
    if data.get("system"):
        out += ["", theme.heading("system stacks (never grow)")]
        rows = [[f"M{s['m']}", s["stack"], human_bytes(s["size"]), human_bytes(s["used"]),
                 human_bytes(s["guard_headroom"])] for s in data["system"]]
        out.append(table(rows, header=["M", "stack", "size", "used", "to guard"], right=(2, 3, 4)))
    return "\n".join(out)
