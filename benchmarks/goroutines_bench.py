"""How long listing every goroutine of a big core takes, and how much memory: godbg vs
Go's runtime-gdb.py vs delve, in one run.

    python benchmarks/goroutines_bench.py [--go 1.27.3] [--goroutines 100000] [--cap 900] [--runs 1]

Builds benchmarks/manygoroutines with the chosen toolchain (the test matrix's cache and
recipes), crashes it into a core with GOTRACEBACK=crash, then runs, on that same core,
each under /usr/bin/time (wall time, CPU time, peak RSS of that process alone):

- ``godbg core BIN CORE goroutines --json``, ``… --json --group``, ``headroom --json``,
  ``report --json`` (fresh processes, DWARF index cache warm);
- gdb with ``$GOROOT/src/runtime/runtime-gdb.py`` sourced: ``info goroutines``;
- ``dlv core BIN CORE`` with ``goroutines`` on its standard input.

With ``--runs N`` each is run N times and the fastest run is kept. The table and the
ratios the scaling issue sets (godbg at most 1/10 of runtime-gdb.py's time, at most
1/3 of delve's peak memory) are printed; benchmarks/scaling.py does the same across
sizes.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from fixtures import BenchCore  # noqa: E402
from scaling import goroutine_runs, ratios, table  # noqa: E402

from tests.integration import matrix  # noqa: E402

PROGRAM = REPO / "benchmarks" / "manygoroutines"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--go", default=matrix.GO_VERSIONS[-1], help="toolchain version (default: newest)")
    parser.add_argument("--goroutines", type=int, default=100_000)
    parser.add_argument("--cap", "--timeout", type=float, default=900, help="seconds before a tool is given up on")
    parser.add_argument("--runs", type=int, default=1, help="runs per tool; the fastest is reported")
    args = parser.parse_args()
    build = matrix.Build(args.go)
    print(f"building and crashing {PROGRAM.name} ({args.goroutines} goroutines) with Go {args.go}…", file=sys.stderr)
    fx = matrix.crash(PROGRAM, build, args=[str(args.goroutines)], core_kind="kernel", timeout=600)
    assert fx.core is not None
    core = BenchCore(PROGRAM.name, args.go, (str(args.goroutines),), fx.binary, fx.core)
    print(f"core {fx.core} ({core.size >> 20} MiB)", file=sys.stderr)
    best: dict[str, object] = {}
    for _ in range(max(1, args.runs)):
        for r in goroutine_runs(core, args.goroutines, args.cap, args.cap):
            kept = best.get(r.tool)
            if kept is None or (r.ok and r.wall < kept.wall):  # type: ignore[attr-defined]
                best[r.tool] = r
    runs = list(best.values())
    print(table(runs, args.cap))  # type: ignore[arg-type]
    print()
    for line in ratios(runs):  # type: ignore[arg-type]
        print(f"- {line}")
    return 0 if all(r.ok and not math.isinf(r.wall) for r in runs if r.tool.startswith("godbg")) else 1  # type: ignore[attr-defined]


if __name__ == "__main__":
    sys.exit(main())
