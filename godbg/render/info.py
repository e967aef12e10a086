"""Text for `info`."""

from __future__ import annotations

from godbg.render.table import human_bytes, table
from godbg.render.theme import Theme
from godbg.results.info import Info


def render(info: Info, theme: Theme) -> str:
    rows = [
        ("Go", theme.heading(info.go_version) + f" {info.goarch}"),
        ("maps", info.map_impl),
        ("experiments", ", ".join(info.goexperiments) or "none"),
        ("goroutines", theme.number(str(info.goroutines))),
        ("Ms", theme.number(str(info.ms))),
        ("maxstacksize", f"{info.maxstacksize} ({human_bytes(info.maxstacksize)})"),
        ("stack guard", f"{info.stack_guard} bytes"),
    ]
    if info.snapshot:
        stop = f", stopped by {info.signal}" if info.signal else ""
        rows.append(("snapshot", f"yes: the process had not crashed{stop}"))
    elif info.signal:
        rows.append(("signal", theme.bad(info.signal)))
    sig = info.fatal_signal
    if sig is not None:
        where = f" in {sig.function}" if sig.function else ""
        cgo = ", during cgo execution" if sig.in_cgo else ""
        m = f" on m{sig.m}" if sig.m is not None else ""
        rows.append(("fatal signal", theme.bad(sig.description or sig.signal) + f" pc={sig.pc:#x}{where}{m}{cgo}"))
    if info.crash_thread is not None:
        rows.append(("thread" if info.snapshot else "crashing thread", str(info.crash_thread)))
    if info.load_bias:
        rows.append(("load bias", f"{info.load_bias:#x} (PIE)"))
    if info.stripped:
        rows.append(("stripped", "yes"))
    text = table([(theme.location(k), v) for k, v in rows])
    if info.notes:
        text += "\n\n" + "\n".join("note: " + n for n in info.notes)
    return text
