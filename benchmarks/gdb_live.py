"""godbg inside gdb on a live 100,000-goroutine process, and what gdb's Python API costs.

    .venv/bin/python benchmarks/gdb_live.py [--go 1.27.3] [--goroutines 100000]

Runs benchmarks/manygoroutines under gdb (GOTRACEBACK=crash: it stops, alive, at the
SIGABRT the runtime raises after parking every goroutine), sources gdbinit.py and times
each command the way a user runs it (`go goroutines --json`, …, output captured by gdb),
wall and CPU time of the gdb process. Then it times gdb's own primitives from Python:
``Inferior.read_memory`` of 8 bytes and of 1 MiB, ``gdb.parse_and_eval`` and
``Frame.read_register``, per call. Compare with the core-mode figures of
benchmarks/scaling.py for the same program and size.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.integration import matrix  # noqa: E402

PROGRAM = REPO / "benchmarks" / "manygoroutines"
COMMANDS = ["goroutines --json", "goroutines --json --group", "headroom --json", "report --json"]

MEASURE = r'''
import json, resource, time, gdb
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
out = {"commands": {}, "api": {}}
for cmd in COMMANDS:
    w, c = time.perf_counter(), cpu()
    text = gdb.execute("go " + cmd, to_string=True)
    out["commands"][cmd] = {"wall": time.perf_counter() - w, "cpu": cpu() - c, "bytes": len(text)}
inf = gdb.selected_inferior()
sp = int(gdb.parse_and_eval("$sp"))
def per_call(fn, n):
    w = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - w) / n
out["api"]["read_memory 8 B"] = per_call(lambda: inf.read_memory(sp, 8).tobytes(), 20000)
out["api"]["read_memory 4 KiB"] = per_call(lambda: inf.read_memory(sp & ~4095, 4096).tobytes(), 5000)
# A non-PIE Go binary's text starts at 0x401000 and is over a megabyte.
out["api"]["read_memory 1 MiB"] = per_call(lambda: inf.read_memory(0x401000, 1 << 20).tobytes(), 50)
out["api"]["parse_and_eval $sp"] = per_call(lambda: int(gdb.parse_and_eval("$sp")), 5000)
frame = gdb.newest_frame()
out["api"]["Frame.read_register rsp"] = per_call(lambda: int(frame.read_register("rsp")), 5000)
open(RESULT, "w").write(json.dumps(out))
'''


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--go", default=matrix.GO_VERSIONS[-1])
    ap.add_argument("--goroutines", type=int, default=100_000)
    ap.add_argument("--timeout", type=float, default=3600)
    args = ap.parse_args()
    binary = matrix.build_program(PROGRAM, matrix.Build(args.go))
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        script = Path(tmp) / "measure.py"
        script.write_text(f"COMMANDS = {COMMANDS!r}\nRESULT = {str(result)!r}\n" + MEASURE)
        cmd = ["gdb", "-nx", "-q", "-batch", "-iex", "set auto-load off", "-ex", "set pagination off",
               "-ex", "set confirm off", "-ex", "handle SIGURG nostop noprint pass",
               "-ex", "handle SIGPIPE nostop noprint pass", "-ex", "set environment GOTRACEBACK=crash",
               "-ex", f"run {args.goroutines} 2>/dev/null", "-ex", f"source {REPO / 'gdbinit.py'}",
               "-ex", f"source {script}", "-ex", "kill", str(binary)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, cwd=tmp)
        if not result.exists():
            print(proc.stdout[-2000:], proc.stderr[-2000:], file=sys.stderr)
            return 1
        data = json.loads(result.read_text())
    print(f"gdb live, {args.goroutines:,} goroutines, Go {args.go}:")
    for name, r in data["commands"].items():
        print(f"  go {name:28} wall {r['wall']:8.2f} s  CPU {r['cpu']:8.2f} s  ({r['bytes']:,} bytes)")
    print("gdb Python API, per call:")
    for name, secs in data["api"].items():
        print(f"  {name:28} {secs * 1e6:10.1f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
