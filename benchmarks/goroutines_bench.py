"""How long listing every goroutine of a big core takes: godbg vs Go's runtime-gdb.py
vs delve.

    python benchmarks/goroutines_bench.py [--go 1.27.3] [--goroutines 100000] [--timeout 900]

Builds benchmarks/manygoroutines with the chosen toolchain (the test matrix's cache and
recipes), crashes it into a core with GOTRACEBACK=crash, then times, on that same core:

- ``godbg core BIN CORE goroutines --json`` (a fresh process, DWARF index cache warm);
- gdb with ``$GOROOT/src/runtime/runtime-gdb.py`` sourced: ``info goroutines``;
- delve headless on the core: the ``ListGoroutines`` RPC its ``goroutines`` command uses
  (all goroutines, with the locations it shows), start-up included.

Each is a wall-clock time of one run; one that passes --timeout is reported as such.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.integration import matrix  # noqa: E402

PROGRAM = REPO / "benchmarks" / "manygoroutines"


def timed(cmd: list[str], timeout: float, cwd: Path | None = None) -> tuple[float | None, str]:
    start = time.monotonic()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout:.0f} s"
    took = time.monotonic() - start
    if out.returncode != 0:
        return took, f"exit status {out.returncode}: {out.stderr.strip()[-300:]}"
    return took, out.stdout


def bench_godbg(fx: matrix.Fixture, timeout: float) -> dict:
    cmd = [sys.executable, "-m", "godbg", "core", str(fx.binary), str(fx.core), "goroutines", "--json"]
    timed(cmd[:-2] + ["info", "--json"], timeout)  # warm the DWARF index cache once
    took, out = timed(cmd, timeout)
    count = len(json.loads(out)["goroutines"]) if took is not None and out.startswith("{") else None
    return {"tool": "godbg goroutines --json", "seconds": took, "goroutines": count,
            "note": "" if count else out[:300]}


def bench_gdb(fx: matrix.Fixture, timeout: float) -> dict:
    goroot = matrix.toolchain(fx.build.go).goroot
    script = goroot / "src" / "runtime" / "runtime-gdb.py"
    cmd = ["gdb", "-nx", "-q", "-batch", "-iex", "set auto-load off", "-ex", f"source {script}",
           "-ex", "info goroutines", str(fx.binary), str(fx.core)]
    took, out = timed(cmd, timeout)
    count = sum(1 for line in out.splitlines() if line.lstrip("* ").split(" ", 1)[0].isdigit()) if took else None
    return {"tool": "gdb + runtime-gdb.py: info goroutines", "seconds": took, "goroutines": count,
            "note": "" if took is not None else out}


def bench_delve(fx: matrix.Fixture, timeout: float) -> dict:
    from godbg.backends.delve.client import DelveServer

    start = time.monotonic()
    try:
        with DelveServer("core", [str(fx.binary), str(fx.core)], kill_on_stop=True) as dlv:
            got = dlv.call("ListGoroutines", Start=0, Count=0)
    except Exception as e:  # noqa: BLE001 - a benchmark reports any failure as a result
        return {"tool": "delve ListGoroutines", "seconds": None, "goroutines": None, "note": str(e)[:300]}
    took = time.monotonic() - start
    return {"tool": "delve ListGoroutines (its `goroutines`)", "seconds": took,
            "goroutines": len(got.get("Goroutines") or []), "note": ""}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--go", default=matrix.GO_VERSIONS[-1], help="toolchain version (default: newest)")
    parser.add_argument("--goroutines", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=900, help="seconds before a tool is given up on")
    parser.add_argument("--skip", action="append", default=[], choices=["godbg", "gdb", "delve"])
    parser.add_argument("--runs", type=int, default=3, help="runs per tool; the best is reported (default 3)")
    args = parser.parse_args()
    build = matrix.Build(args.go)
    print(f"building and crashing {PROGRAM.name} ({args.goroutines} goroutines) with Go {args.go}…", file=sys.stderr)
    fx = matrix.crash(PROGRAM, build, args=[str(args.goroutines)], core_kind="kernel", timeout=600)
    assert fx.core is not None
    size = os.path.getsize(fx.core)
    print(f"core {fx.core} ({size / (1 << 20):.0f} MiB)", file=sys.stderr)
    results = []
    for name, fn in (("godbg", bench_godbg), ("gdb", bench_gdb), ("delve", bench_delve)):
        if name in args.skip:
            continue
        # Best of N runs, each tool on the same core: the first run of a tool may pay for
        # reading the core into the page cache after another tool pushed it out.
        runs = [fn(fx, args.timeout) for _ in range(args.runs)]
        done = [r for r in runs if r["seconds"] is not None]
        r = min(done, key=lambda r: r["seconds"]) if done else runs[0]
        r["runs"] = [x["seconds"] for x in runs]
        results.append(r)
        secs = "timeout" if r["seconds"] is None else f"{r['seconds']:.1f} s"
        print(f"{r['tool']:45} {secs:>10}  {r['goroutines'] or '-':>8} goroutines  {r['note']}", file=sys.stderr)
    print(json.dumps({"go": args.go, "goroutines": args.goroutines, "core_bytes": size, "results": results},
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
