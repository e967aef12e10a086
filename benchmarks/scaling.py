"""How godbg, Go's runtime-gdb.py and delve scale: 10k, 100k and 1M goroutines, maps of
1M and 10M entries. One command prints the whole table (markdown, for docs/performance.md):

    .venv/bin/python benchmarks/scaling.py [--go 1.27.3] [--cap 600] [--only goroutines|maps]
                                            [--sizes 10000,100000,1000000] [--json FILE]

Cores are made once and cached (benchmarks/fixtures.py: kernel cores under
~/.cache/godbg/bench). Every measurement is one process run under /usr/bin/time: wall
time, CPU time (user + system: what the process itself cost, which the wall time of a
loaded machine hides) and peak RSS (that process alone). delve and runtime-gdb.py get
``--cap`` seconds and show as "> cap" past it; godbg gets ``--godbg-timeout``.

    godbg   core BIN CORE goroutines --json | goroutines --json --group | headroom --json | report --json
    gdb     -batch -ex 'source GOROOT/src/runtime/runtime-gdb.py' -ex 'info goroutines' BIN CORE
    delve   dlv core BIN CORE  (stdin: goroutines)
    godbg   core BIN CORE map main.big --jsonl
    gdb     ... -ex "print 'main.big'"      (runtime-gdb.py's map printer)
    delve   dlv core BIN CORE  (stdin: config max-array-values N; print main.big)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from fixtures import BenchCore, core_for  # noqa: E402

from tests.integration import matrix  # noqa: E402

GOROUTINES = REPO / "benchmarks" / "manygoroutines"
BIGMAP = REPO / "benchmarks" / "bigmap"
DLV = matrix.cache_dir() / "bin" / "dlv"
TIME = "/usr/bin/time"
MARK = "GODBG_BENCH="
# Each run as a user's shell would start it: with Python's bytecode cache (a sandbox that
# sets PYTHONDONTWRITEBYTECODE makes every godbg start compile its sources again).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
GODBG_COMMANDS = {
    "goroutines --json": ["goroutines", "--json"],
    "goroutines --json --group": ["goroutines", "--json", "--group"],
    "headroom --json": ["headroom", "--json"],
    "report --json": ["report", "--json"],
}


@dataclass
class Run:
    workload: str
    tool: str
    wall: float  # seconds; inf past the cap
    cpu: float  # user + system seconds
    peak_mib: float
    ok: bool
    note: str = ""


def measure(workload: str, tool: str, argv: list[str], timeout: float, stdin: str = "",
            check: Optional[Callable[[bytes], tuple[bool, str]]] = None) -> Run:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen([TIME, "-f", MARK + "%U %S %M", *argv], stdin=subprocess.PIPE, stdout=out,
                                stderr=err, cwd=REPO, start_new_session=True, env=ENV)
        try:
            proc.communicate(stdin.encode(), timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
            return Run(workload, tool, math.inf, math.nan, math.nan, False, f"> {timeout:.0f} s (cap)")
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        # The output can be gigabytes: checks look at its start and end.
        size = os.fstat(out.fileno()).st_size
        head = out.read(1 << 20)
        out.seek(max(0, size - (1 << 20)))
        tail = out.read()
        text = head if size <= len(head) else head + b"\n...\n" + tail
        errors = err.read().decode(errors="replace")
    stats = [line[len(MARK):].split() for line in errors.splitlines() if line.startswith(MARK)]
    user, system, peak_kib = (float(x) for x in stats[-1]) if stats else (math.nan, math.nan, math.nan)
    ok, note = check(text) if check else (proc.returncode == 0, "")
    if proc.returncode not in (0, 1) and ok:
        ok, note = False, f"exit status {proc.returncode}: {errors[-200:]}"
    return Run(workload, tool, wall, user + system, peak_kib / 1024, ok, note)


def _godbg(core: BenchCore, args: list[str]) -> list[str]:
    return [sys.executable, "-m", "godbg", "core", str(core.binary), str(core.core), *args]


def _runtime_gdb(core: BenchCore, command: str) -> list[str]:
    script = matrix.toolchain(core.go).goroot / "src" / "runtime" / "runtime-gdb.py"
    return ["gdb", "-nx", "-q", "-batch", "-iex", "set auto-load off", "-ex", "set pagination off",
            "-ex", "set print elements unlimited", "-ex", f"source {script}", "-ex", command,
            str(core.binary), str(core.core)]


def _dlv(core: BenchCore) -> list[str]:
    return [str(DLV), "core", str(core.binary), str(core.core), "--check-go-version=false",
            "--allow-non-terminal-interactive=true"]


def goroutine_runs(core: BenchCore, n: int, cap: float, godbg_timeout: float, anchors: bool = True) -> list[Run]:
    workload = f"{n:,} goroutines"
    runs = []
    # Warm the DWARF index cache and the page cache once, unmeasured.
    measure(workload, "warm-up", _godbg(core, ["info", "--json"]), godbg_timeout)
    for name, args in GODBG_COMMANDS.items():
        runs.append(measure(workload, f"godbg {name}", _godbg(core, args), godbg_timeout))
        _report(runs[-1])
    if not anchors:
        return runs

    def gdb_check(text: bytes) -> tuple[bool, str]:
        count = sum(1 for line in text.splitlines() if line.lstrip(b"* ").split(b" ", 1)[0].isdigit())
        return b"Python Exception" not in text, f"{count:,}+ goroutines listed"

    runs.append(measure(workload, "runtime-gdb.py info goroutines", _runtime_gdb(core, "info goroutines"), cap,
                        check=gdb_check))
    _report(runs[-1])

    def dlv_check(text: bytes) -> tuple[bool, str]:
        return b"Goroutine " in text, f"{text.count(b'  Goroutine '):,}+ goroutines listed"

    runs.append(measure(workload, "delve goroutines", _dlv(core), cap, stdin="goroutines\nexit\n", check=dlv_check))
    _report(runs[-1])
    return runs


def map_runs(core: BenchCore, n: int, cap: float, godbg_timeout: float, anchors: bool = True) -> list[Run]:
    workload = f"{n:,}-entry map[int]int"
    runs = []
    measure(workload, "warm-up", _godbg(core, ["info", "--json"]), godbg_timeout)

    def lines_check(text: bytes) -> tuple[bool, str]:
        return text.startswith(b"["), ""

    runs.append(measure(workload, "godbg map main.big --jsonl", _godbg(core, ["map", "main.big", "--jsonl"]),
                        godbg_timeout, check=lines_check))
    _report(runs[-1])
    if not anchors:
        return runs
    def gdb_check(text: bytes) -> tuple[bool, str]:
        # runtime-gdb.py prints {[k] = v, ...}; on a swiss map of several tables it stops
        # early without an error, so say how many it printed.
        count = text.count(b"] = ")
        whole = b"\n...\n" not in text
        return True, f"printed {count:,} entries" if whole else f"{count:,}+ entries in the first and last MiB"

    runs.append(measure(workload, "runtime-gdb.py print main.big", _runtime_gdb(core, "print 'main.big'"), cap,
                        check=gdb_check))
    _report(runs[-1])
    script = f"config max-array-values {n}\nprint main.big\nexit\n"
    runs.append(measure(workload, "delve print main.big", _dlv(core), cap, stdin=script))
    _report(runs[-1])
    return runs


def _report(r: Run) -> None:
    print(f"  {r.workload:>24}  {r.tool:34} {_secs(r.wall):>9} {_secs(r.cpu):>9} {_mib(r.peak_mib):>9}  "
          f"{'ok' if r.ok else 'FAILED'} {r.note}", file=sys.stderr, flush=True)


def _secs(s: float) -> str:
    return "-" if math.isnan(s) else ("> cap" if math.isinf(s) else f"{s:.2f}")


def _mib(m: float) -> str:
    return "-" if math.isnan(m) else f"{m:.0f}"


def table(runs: list[Run], cap: float) -> str:
    lines = ["| workload | tool | wall s | CPU s | peak RSS MiB | note |", "|---|---|---:|---:|---:|---|"]
    for r in runs:
        wall = f"> {cap:.0f}" if math.isinf(r.wall) else f"{r.wall:.2f}"
        note = r.note if r.ok else f"FAILED {r.note}"
        lines.append(f"| {r.workload} | {r.tool} | {wall} | {_secs(r.cpu)} | {_mib(r.peak_mib)} | {note} |")
    return "\n".join(lines)


def ratios(runs: list[Run]) -> list[str]:
    """The issue's targets, as measured in this run."""
    out = []
    by = {(r.workload, r.tool): r for r in runs}
    w = "100,000 goroutines"
    gdb, dlv = by.get((w, "runtime-gdb.py info goroutines")), by.get((w, "delve goroutines"))
    for name in ("goroutines --json", "goroutines --json --group"):
        g = by.get((w, f"godbg {name}"))
        if g and gdb and gdb.ok and not math.isinf(gdb.wall):
            out.append(f"{w}: godbg {name} / runtime-gdb.py: wall {g.wall / gdb.wall:.3f}, "
                       f"CPU {g.cpu / gdb.cpu:.3f} (target <= 0.1)")
        if g and dlv and dlv.ok:
            out.append(f"{w}: godbg {name} / delve: peak RSS {g.peak_mib / dlv.peak_mib:.3f} (target <= 0.333)")
    for name in GODBG_COMMANDS:
        small, big = by.get((w, f"godbg {name}")), by.get(("1,000,000 goroutines", f"godbg {name}"))
        if small and big and big.ok:
            out.append(f"1M / 100k goroutines: godbg {name}: wall x{big.wall / small.wall:.1f}, "
                       f"CPU x{big.cpu / small.cpu:.1f} (target <= 11), peak {big.peak_mib:.0f} MiB "
                       "(target <= 1536)")
    m = by.get(("10,000,000-entry map[int]int", "godbg map main.big --jsonl"))
    if m:
        out.append(f"10M-entry map --jsonl: peak {m.peak_mib:.0f} MiB (target <= 500)")
    return out


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))) / (1 << 20)
    load = os.getloadavg()[0]
    return (f"{os.cpu_count()} CPUs ({cpu}), {mem:.0f} GiB RAM, Linux {platform.release()}, "
            f"Python {platform.python_version()}; load average {load:.1f} at the start")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--go", default=matrix.GO_VERSIONS[-1])
    ap.add_argument("--cap", type=float, default=600, help="seconds delve and runtime-gdb.py get per run")
    ap.add_argument("--godbg-timeout", type=float, default=3600)
    ap.add_argument("--sizes", default="10000,100000,1000000", help="goroutine counts")
    ap.add_argument("--map-sizes", default="1000000,10000000", help="map entry counts")
    ap.add_argument("--only", choices=["goroutines", "maps"])
    ap.add_argument("--json", metavar="FILE", help="also write the runs as JSON")
    ap.add_argument("--godbg-only", action="store_true", help="leave out runtime-gdb.py and delve")
    args = ap.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    header = machine()
    runs: list[Run] = []
    if args.only != "maps":
        for n in (int(x) for x in args.sizes.split(",") if x):
            core = core_for(GOROUTINES, args.go, [str(n)])
            print(f"{n:,} goroutines: core {core.core} ({core.size >> 20} MiB)", file=sys.stderr, flush=True)
            runs += goroutine_runs(core, n, args.cap, args.godbg_timeout, not args.godbg_only)
    if args.only != "goroutines":
        for n in (int(x) for x in args.map_sizes.split(",") if x):
            core = core_for(BIGMAP, args.go, [str(n)])
            print(f"{n:,}-entry map: core {core.core} ({core.size >> 20} MiB)", file=sys.stderr, flush=True)
            runs += map_runs(core, n, args.cap, args.godbg_timeout, not args.godbg_only)
    print(f"Go {args.go}; {started}; {header}\n")
    print(table(runs, args.cap))
    print()
    for line in ratios(runs):
        print(f"- {line}")
    if args.json:
        Path(args.json).write_text(json.dumps({"go": args.go, "date": started, "machine": header,
                                               "runs": [asdict(r) for r in runs]}, indent=2, default=str) + "\n")
    return 0 if all(r.ok for r in runs if r.tool.startswith("godbg")) else 1


if __name__ == "__main__":
    sys.exit(main())
