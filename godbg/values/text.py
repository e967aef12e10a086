"""Decoded Go values as text for people, the way Go would write them:
``"foo"``, ``{X: 1, Y: "a"}``, ``[1, 2, 3]``, ``0xc000012345``, ``nil``, ``int(5)``."""

from __future__ import annotations

import json
from typing import Any

from godbg.values.decode import go_float
from godbg.values.model import ChanRef, FuncRef, Iface, MapRef, Ptr, Raw

# Past this many characters a value's text is cut (one value must not flood a terminal).
MAX_TEXT = 4096


def format_text(value: Any, limit: int = MAX_TEXT) -> str:
    out: list[str] = []
    _fmt(value, out)
    s = "".join(out)
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return s


def _fmt(v: Any, out: list[str]) -> None:
    if v is None:
        out.append("nil")
    elif isinstance(v, Raw):
        out.append(str(v))
    elif isinstance(v, bool):
        out.append("true" if v else "false")
    elif isinstance(v, int):
        out.append(str(v))
    elif isinstance(v, float):
        out.append(go_float(v))
    elif isinstance(v, str):
        out.append(json.dumps(v, ensure_ascii=False))
    elif isinstance(v, MapRef):
        m = v.get("map")
        out.append("map(nil)" if m is None else f"map({m}, len {v.get('count')})")
    elif isinstance(v, Ptr):
        if v.get("cycle"):
            out.append(f"{v.get('ptr')} <cycle>")
        else:
            out.append(f"({v.get('ptr')}) &")
            _fmt(v.get("value"), out)
    elif isinstance(v, FuncRef):
        out.append(f"func {v.get('func')}")
    elif isinstance(v, ChanRef):
        out.append(f"chan({v.get('chan')}, len {v.get('len')}, cap {v.get('cap')})")
    elif isinstance(v, Iface) and "error" in v:
        out.append(f"{v.get('type')}({json.dumps(v['error'], ensure_ascii=False)})")
    elif isinstance(v, Iface):
        out.append(str(v.get("type")))
        out.append("(")
        _fmt(v.get("value"), out)
        out.append(")")
    elif isinstance(v, dict):
        out.append("{")
        for i, (k, x) in enumerate(v.items()):
            if i:
                out.append(", ")
            out.append(f"{k}: ")
            _fmt(x, out)
        out.append("}")
    elif isinstance(v, (list, tuple)):
        out.append("[")
        for i, x in enumerate(v):
            if i:
                out.append(", ")
            _fmt(x, out)
        out.append("]")
    else:
        out.append(str(v))
