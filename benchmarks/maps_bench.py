"""Time and peak memory of printing a big map from one core: godbg vs delve vs Go's
runtime-gdb.py.

    python benchmarks/maps_bench.py [--go 1.27.3] [--timeout 900] [--skip-gdb]

Builds testdata/maps/bench (a 1,000,000-entry map[int]int `main.big` and a
100,000-entry map[string]int `main.strs`) with the chosen Go, crashes it into a core
(tests/integration/matrix.py: cached), then runs each tool on the same core, one
process per measurement, and reports wall time and peak RSS (wait4's ru_maxrss):

    godbg core BIN CORE map main.big --json --limit 0
    dlv core BIN CORE --check-go-version=false   (config max-array-values N; print main.big)
    gdb -batch -ex 'source GOROOT/src/runtime/runtime-gdb.py' -ex 'print main.big' BIN CORE
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.integration import matrix  # noqa: E402

PROGRAM = REPO / "testdata" / "maps" / "bench"
MAPS = {"main.big": 1_000_000, "main.strs": 100_000}
DLV = matrix.cache_dir() / "bin" / "dlv"
TIME = "/usr/bin/time"
PEAK_MARK = "GODBG_BENCH_PEAK_KIB="
# The target the issue sets: godbg at most this fraction of delve's time and memory.
TARGET_RATIO = 0.1


@dataclass
class Run:
    tool: str
    expr: str
    seconds: float
    peak_mib: float
    ok: bool
    note: str = ""


def measure(tool: str, expr: str, argv: list[str], timeout: float, stdin: str | None = None,
            check: Callable[[str], tuple[bool, str]] | None = None) -> Run:
    """Run ``argv`` under /usr/bin/time (peak RSS of that process alone: a forked Python
    child would report the parent's RSS as its own) and check its output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        try:
            proc = subprocess.run([TIME, "-f", PEAK_MARK + "%M", *argv], input=(stdin or "").encode(),
                                  stdout=out, stderr=err, cwd=REPO, timeout=timeout)
        except subprocess.TimeoutExpired:
            return Run(tool, expr, timeout, float("nan"), False, f"timed out after {timeout:.0f}s")
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        text = out.read().decode(errors="replace")
        errors = err.read().decode(errors="replace")
    peak_kib = [int(line[len(PEAK_MARK):]) for line in errors.splitlines() if line.startswith(PEAK_MARK)]
    peak = peak_kib[-1] / 1024 if peak_kib else float("nan")
    ok, note = check(text) if check else (proc.returncode == 0, "")
    if proc.returncode != 0 and ok:
        ok, note = False, f"exit status {proc.returncode}: {errors[-300:]}"
    return Run(tool, expr, seconds, peak, ok, note)


def godbg_run(fx: matrix.Fixture, expr: str, timeout: float) -> Run:
    want = MAPS[expr]

    def check(text: str) -> tuple[bool, str]:
        try:
            doc = json.loads(text)
        except ValueError:
            return False, text[-300:]
        n = len(doc["entries"])
        return n == want, f"{n} entries"

    argv = [sys.executable, "-m", "godbg", "core", str(fx.binary), str(fx.core), "map", expr, "--json", "--limit", "0"]
    return measure("godbg", expr, argv, timeout, check=check)


def dlv_run(fx: matrix.Fixture, expr: str, timeout: float) -> Run:
    want = MAPS[expr]
    script = f"config max-array-values {want}\nprint {expr}\nexit\n"

    def check(text: str) -> tuple[bool, str]:
        # delve prints one `key: value, ` line per entry, then "...+N more" if it stopped.
        n = text.count(", \n")
        return n >= want and "more" not in text[-200:], f"{n} entries"

    argv = [str(DLV), "core", str(fx.binary), str(fx.core), "--check-go-version=false",
            "--allow-non-terminal-interactive=true"]
    return measure("delve", expr, argv, timeout, stdin=script, check=check)


def gdb_run(fx: matrix.Fixture, expr: str, timeout: float) -> Run:
    want = MAPS[expr]
    tc = matrix.toolchain(fx.build.go)
    script = tc.goroot / "src" / "runtime" / "runtime-gdb.py"

    def check(text: str) -> tuple[bool, str]:
        n = text.count("] = ")  # runtime-gdb.py prints {[k] = v, [k] = v, ...}
        return n >= want and "Python Exception" not in text, f"{n} entries"

    argv = ["gdb", "-nx", "-batch", "-ex", "set pagination off", "-ex", "set print elements unlimited",
            "-ex", f"source {script}", "-ex", f"print '{expr}'", str(fx.binary), str(fx.core)]
    return measure("runtime-gdb.py", expr, argv, timeout, check=check)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--go", default="1.27.3", help="Go toolchain of the matrix to build with")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per tool run before giving up")
    ap.add_argument("--skip-gdb", action="store_true")
    ap.add_argument("--skip-dlv", action="store_true")
    args = ap.parse_args()
    fx = matrix.crash(PROGRAM, matrix.Build(args.go))
    print(f"core: {fx.core} ({fx.core.stat().st_size >> 20} MiB), Go {args.go}, truth {fx.truth}")
    runs: list[Run] = []
    for expr in MAPS:
        runs.append(godbg_run(fx, expr, args.timeout))
        if not args.skip_dlv:
            runs.append(dlv_run(fx, expr, args.timeout))
        if not args.skip_gdb:
            runs.append(gdb_run(fx, expr, args.timeout))
    print(f"{'map':<10} {'tool':<15} {'seconds':>9} {'peak MiB':>9}  ok  note")
    for r in runs:
        print(f"{r.expr:<10} {r.tool:<15} {r.seconds:9.2f} {r.peak_mib:9.1f}  {'yes' if r.ok else 'NO':<3} {r.note}")
    for expr in MAPS:
        g = next(r for r in runs if r.expr == expr and r.tool == "godbg")
        d = next((r for r in runs if r.expr == expr and r.tool == "delve"), None)
        if d is not None and d.ok:
            print(f"{expr}: godbg/delve time {g.seconds / d.seconds:.3f}, memory {g.peak_mib / d.peak_mib:.3f} "
                  f"(target <= {TARGET_RATIO})")
    return 0 if all(r.ok for r in runs if r.tool == "godbg") else 1


if __name__ == "__main__":
    sys.exit(main())
