"""Text for `info`."""

from __future__ import annotations

from typing import Any

from godbg.render.table import human_bytes, table
from godbg.render.theme import Theme


def render(data: dict[str, Any], theme: Theme) -> str:
    rows = [
        ("Go", theme.heading(data["go_version"]) + f" {data['goarch']}"),
        ("maps", data["map_impl"]),
        ("experiments", ", ".join(data["goexperiments"]) or "none"),
        ("goroutines", theme.number(str(data["goroutines"]))),
        ("Ms", theme.number(str(data["ms"]))),
        ("maxstacksize", f"{data['maxstacksize']} ({human_bytes(data['maxstacksize'])})"),
        ("stack guard", f"{data['stack_guard']} bytes"),
    ]
    if data.get("snapshot"):
        stop = f", stopped by {data['signal']}" if data.get("signal") else ""
        rows.append(("snapshot", f"yes: the process had not crashed{stop}"))
    elif data.get("signal"):
        rows.append(("signal", theme.bad(data["signal"])))
    sig = data.get("fatal_signal")
    if sig:
        where = f" in {sig['function']}" if sig.get("function") else ""
        cgo = ", during cgo execution" if sig.get("in_cgo") else ""
        m = f" on m{sig['m']}" if sig.get("m") is not None else ""
        rows.append(("fatal signal", theme.bad(sig.get("description") or sig["signal"])
                     + f" pc={sig['pc']}{where}{m}{cgo}"))
    if data.get("crash_thread") is not None:
        rows.append(("thread" if data.get("snapshot") else "crashing thread", str(data["crash_thread"])))
    if data.get("load_bias"):
        rows.append(("load bias", f"{data['load_bias']:#x} (PIE)"))
    if data.get("stripped"):
        rows.append(("stripped", "yes"))
    text = table([(theme.location(k), v) for k, v in rows])
    notes = data.get("notes") or []
    if notes:
        text += "\n\n" + "\n".join("note: " + n for n in notes)
    return text
