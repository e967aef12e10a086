#!/usr/bin/env python3
"""Write godbg/runtime/layouts_builtin.json: what godbg needs to read a stripped Go
binary (`-ldflags=-s -w`: no DWARF, no symbol table), recorded from unstripped builds.

For every toolchain of the test matrix (tests/integration/matrix.py: GO_VERSIONS,
installed by scripts/setup.sh under $GODBG_CACHE/go/<version>) this builds the
REFERENCE program and a few CHECK programs from testdata/, and records per release:

- ``layouts``: each runtime struct of STRUCTS found in their DWARF, read with godbg's
  own DwarfInfo and flattened as godbg.runtime.layouts flattens it (a struct must be the
  same in every program that has it);
- ``constants``: the DWARF constants godbg reads (CONSTANT_PREFIXES);
- ``globals``: for each of godbg.runtime.globals_stripped.GLOBAL_NAMES, its size and
  section and up to MAX_REFS RIP-relative references to it in runtime functions, each
  kept only when it resolves to the right address in every program built.

    .venv/bin/python scripts/gen_layouts.py            # every installed toolchain
    .venv/bin/python scripts/gen_layouts.py --check    # exit 1 if the JSON is stale

A release whose toolchain is not installed keeps its entry from the existing JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from godbg.program.binary import GoBinary  # noqa: E402
from godbg.runtime import layouts as rl  # noqa: E402
from godbg.runtime.globals_stripped import (  # noqa: E402
    ADJUSTS,
    DATA_SECTIONS,
    DISP32,
    GLOBAL_NAMES,
    MODRM_MASK,
    MODRM_RIP,
    locate,
    resolve_ref,
    window,
)
from godbg.runtime.layouts_builtin import FORMAT, GOARCH, JSON_PATH, expand  # noqa: E402
from tests.integration import matrix  # noqa: E402

REFERENCE = "basic"
# More programs: more runtime types reachable (so present in DWARF), and more builds
# each recorded code reference must hold in.
CHECKS = ("goroutines", "panics", "maps")
# An empty program, built too: a reference must be in a function every program links.
MINIMAL_SOURCE = {"go.mod": "module minimal\n\ngo 1.22\n", "main.go": "package main\n\nfunc main() {}\n"}

# Every runtime struct godbg reads through godbg.runtime.layouts.layout(), and a few
# more it is likely to. A type the linker dropped from every program (unused by the
# runtime of that release) is simply absent for that release.
STRUCTS = (
    "runtime.g", "runtime.m", "runtime.p", "runtime.gobuf", "runtime.stack",
    "runtime._panic", "runtime._defer", "runtime.funcval", "runtime.sudog", "runtime.hchan",
    "runtime.waitq", "runtime.moduledata", "runtime.pcHeader", "runtime._func",
    "runtime.sigcontext", "runtime.ucontext", "runtime.mcontext", "runtime.stackt", "runtime.sigctxt",
    "runtime.eface", "runtime.iface", "runtime.itab",
    "runtime.boundsError", "runtime.errorAddressString", "runtime.TypeAssertionError",
    "runtime.hmap", "runtime.bmap", "runtime.mapextra",
    "internal/runtime/maps.Map", "internal/runtime/maps.table", "internal/runtime/maps.groupsReference",
    "internal/runtime/maps.groupReference",
    "internal/abi.Type", "internal/abi.ArrayType", "internal/abi.ChanType", "internal/abi.FuncType",
    "internal/abi.InterfaceType", "internal/abi.PtrType", "internal/abi.SliceType",
    "internal/abi.StructType", "internal/abi.StructField", "internal/abi.UncommonType",
    "internal/abi.Method", "internal/abi.Imethod", "internal/abi.Name", "internal/abi.ITab",
    "internal/abi.MapType", "internal/abi.SwissMapType", "internal/abi.OldMapType",
    "runtime.mstats", "runtime.schedt",
    # who waits for whom, leaks: semaphores, conds, timers, netpoll, the heap's spans
    "runtime.semaRoot", "runtime.notifyList", "runtime.timer", "runtime.pollDesc", "runtime.mheap",
    "runtime.mspan",
)
CONSTANT_PREFIXES = ("runtime._G",)
MAX_REFS = 4
# Only runtime functions: user code and optional packages (runtime/debug) come and go.
REF_PACKAGE = "runtime."


def flatten(binary: GoBinary, name: str) -> dict[str, Any] | None:
    t = binary.dwarf.type_by_name(name)
    if t is None or getattr(t, "fields", None) is None:
        return None
    offsets: dict[str, int] = {}
    sizes: dict[str, int] = {}
    rl._flatten(t, "", 0, offsets, sizes, rl._FLATTEN_DEPTH)
    return {"size": t.size, "fields": {k: [offsets[k], sizes[k]] for k in offsets}}


def candidate_refs(binary: GoBinary, address: int) -> list[dict[str, Any]]:
    """Every RIP-relative operand in a runtime function that names ``address``."""
    text = binary.sections[".text"]
    code = bytes(binary.section_bytes(".text") or b"")
    out = []
    for i in range(1, len(code) - DISP32):
        if code[i - 1] & MODRM_MASK != MODRM_RIP:
            continue
        disp = int.from_bytes(code[i : i + DISP32], "little", signed=True)
        for adjust in ADJUSTS:
            if text.addr + i + DISP32 + adjust + disp != address:
                continue
            f = binary.pclntab.find_func(text.addr + i)
            if f is None or not f.name.startswith(REF_PACKAGE):
                continue
            fcode = binary.read_vaddr(f.entry, f.end - f.entry)
            off = text.addr + i - f.entry
            start, pattern = window(fcode, off)
            out.append({"func": f.name, "offset": off, "adjust": adjust, "window_start": start,
                        "window": pattern, "func_size": len(fcode)})
    return out


def section_of(binary: GoBinary, address: int) -> str | None:
    for name in DATA_SECTIONS:
        s = binary.sections.get(name)
        if s is not None and s.addr <= address < s.addr + s.size:
            return name
    return None


def record_globals(ref: GoBinary, checks: list[GoBinary]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in GLOBAL_NAMES:
        sym = ref.symbol(name)
        if sym is None:
            continue
        good = []
        for r in candidate_refs(ref, sym.addr):
            if all(resolve_ref(b, r) == b.symbol(name).addr for b in checks if b.symbol(name) is not None):
                # Must be found at its recorded offset in every check build, not by search.
                if all(_at_offset(b, r) for b in checks):
                    good.append(r)
        # Small functions first (least likely to change), one reference per function first.
        good.sort(key=lambda r: (r["func_size"], r["offset"]))
        chosen: list[dict[str, Any]] = []
        for r in good:
            if r["func"] not in {c["func"] for c in chosen}:
                chosen.append(r)
        for r in good:
            if r not in chosen:
                chosen.append(r)
        chosen = chosen[:MAX_REFS]
        for r in chosen:
            del r["func_size"]
        if chosen:
            out[name] = {"size": sym.size, "section": section_of(ref, sym.addr), "refs": chosen}
    return out


def _at_offset(b: GoBinary, r: dict[str, Any]) -> bool:
    f = b.pclntab.func_by_name(r["func"])
    return f is not None and locate(b.read_vaddr(f.entry, f.end - f.entry), r) == r["offset"]


def minimal_program() -> Path:
    """testdata has no empty program: write one into the cache."""
    d = matrix.cache_dir() / "gen_layouts" / "minimal"
    d.mkdir(parents=True, exist_ok=True)
    for name, text in MINIMAL_SOURCE.items():
        if not (d / name).exists() or (d / name).read_text() != text:
            (d / name).write_text(text)
    return d


def release(version: str) -> tuple[str, dict[str, Any]]:
    build = matrix.Build(version)
    ref_path = matrix.build_program(REFERENCE, build)
    ref = GoBinary(str(ref_path))
    checks = [GoBinary(str(matrix.build_program(p, build))) for p in CHECKS]
    minimal = GoBinary(str(matrix.build_program(minimal_program(), build)))
    layouts: dict[str, Any] = {}
    for name in STRUCTS:
        for b in [ref, *checks]:
            found = flatten(b, name)
            if found is None:
                continue
            if name in layouts and layouts[name] != found:
                raise SystemExit(f"go{version}: {name} differs between {REFERENCE} and {b.path}")
            layouts.setdefault(name, found)
    constants: dict[str, int] = {}
    for b in [ref, *checks]:
        for prefix in CONSTANT_PREFIXES:
            constants.update(b.dwarf.constants(prefix))
    toolchain = f"go{version}"
    major, minor = version.split(".")[:2]
    entry = {
        "toolchain": toolchain,
        "source": f"DWARF of {toolchain} linux/{GOARCH} binary",
        "programs": [f"testdata/{p}" for p in (REFERENCE, *CHECKS)],
        "layouts": dict(sorted(layouts.items())),
        "constants": dict(sorted(constants.items())),
        "globals": record_globals(ref, [ref, *checks, minimal]),
    }
    return f"{major}.{minor}", entry


def generate(versions: list[str], old: dict[str, Any]) -> dict[str, Any]:
    releases = dict(old.get("releases", {}))
    for v in versions:
        try:
            matrix.toolchain(v)
        except matrix.ToolchainMissing as e:
            print(f"gen_layouts: skipping go{v}: {e}", file=sys.stderr)
            continue
        key, entry = release(v)
        missing = [g for g in GLOBAL_NAMES if g not in entry["globals"]]
        print(f"gen_layouts: go{v}: {len(entry['layouts'])} layouts, {len(entry['constants'])} constants, "
              f"{len(entry['globals'])} globals" + (f" (none for {', '.join(missing)})" if missing else ""),
              file=sys.stderr)
        releases[key] = entry
    return {
        "format": FORMAT,
        "generator": "scripts/gen_layouts.py",
        "goarch": GOARCH,
        "releases": dict(sorted(releases.items(), key=lambda kv: tuple(int(p) for p in kv[0].split(".")))),
    }


def dump(doc: dict[str, Any]) -> str:
    """The document as written: a layout identical in several releases is stored once, in
    a shared ``layouts`` table (ids L0, L1, … in order of first use), and each release
    names its layouts by id; one line per layout, indented above that."""
    shared: dict[str, str] = {}  # compact JSON of a layout -> its id
    releases: dict[str, Any] = {}
    for key, entry in doc["releases"].items():
        refs = {}
        for name, lay in entry["layouts"].items():
            text = json.dumps(lay, separators=(",", ":"))
            refs[name] = shared.setdefault(text, f"L{len(shared)}")
        releases[key] = {**entry, "layouts": refs}
    placeholders = {ref: f"@@{ref}@@" for ref in shared.values()}
    out = {**{k: v for k, v in doc.items() if k != "releases"},
           "layouts": {ref: placeholders[ref] for ref in shared.values()}, "releases": releases}
    text = json.dumps(out, indent=1)
    for lay, ref in shared.items():
        text = text.replace(f'"{placeholders[ref]}"', lay, 1)
    return text + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the JSON instead of writing it")
    ap.add_argument("--go-versions", default=",".join(matrix.GO_VERSIONS), help="comma list of toolchains")
    args = ap.parse_args(argv)
    old: dict[str, Any] = {}
    if JSON_PATH.exists():
        stored = json.loads(JSON_PATH.read_text())
        old = expand(stored) if stored.get("format") == FORMAT else stored
    doc = generate([v for v in args.go_versions.split(",") if v], old)
    text = dump(doc)
    if args.check:
        if JSON_PATH.exists() and JSON_PATH.read_text() == text:
            return 0
        print(f"gen_layouts: {JSON_PATH} is stale: run scripts/gen_layouts.py", file=sys.stderr)
        return 1
    JSON_PATH.write_text(text)
    print(f"gen_layouts: wrote {JSON_PATH} ({len(text)} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
