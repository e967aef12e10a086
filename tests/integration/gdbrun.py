"""Drive gdb for tests: batch sessions with BEGIN/END markers around each command
(the way Go's runtime-gdb_test.go does), so each command's output can be cut out."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GDBINIT = os.path.join(REPO, "gdbinit.py")


@dataclass
class GdbResult:
    outputs: list[str]  # one per command, what it printed between its markers
    stdout: str
    stderr: str
    returncode: int

    def json(self, i: int):
        return json.loads(self.outputs[i])


def gdb_batch(
    commands: Sequence[str],
    binary: str,
    core: str | None = None,
    before: Sequence[str] = (),
    before_source: Sequence[str] = (),
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    timeout: float = 300,
    cwd: str | None = None,
) -> GdbResult:
    """Load ``binary`` (and ``core``), run ``before_source``, source gdbinit.py, run
    ``before`` (breakpoints, `run`, …) and then each of ``commands`` between echo markers."""
    argv = ["gdb", "-nx", "-q", "-batch", "-ex", "set pagination off", "-ex", "set width 0",
            "-ex", "set style enabled off", "-ex", "set confirm off"]
    if args:
        argv += ["--args", binary, *args]
        argv_file: list[str] = []
    else:
        argv_file = ["-ex", f"file {binary}"]
    pre = argv_file + (["-ex", f"core {core}"] if core else [])
    for c in before_source:  # e.g. runtime-gdb.py, loaded before godbg
        pre += ["-ex", c]
    pre += ["-ex", f"source {GDBINIT}"]
    for c in before:
        pre += ["-ex", c]
    body: list[str] = []
    for i, c in enumerate(commands):
        body += ["-ex", f"echo \\nBEGIN {i}\\n", "-ex", c, "-ex", f"echo \\nEND {i}\\n"]
    if args:
        cmd = argv[: argv.index("--args")] + pre + body + argv[argv.index("--args"):]
    else:
        cmd = argv + pre + body
    full_env = {**os.environ, "TERM": "dumb", **(env or {})}
    full_env.pop("NO_COLOR", None)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env, cwd=cwd)
    outputs = []
    for i in range(len(commands)):
        begin, end = f"\nBEGIN {i}\n", f"\nEND {i}\n"
        out = p.stdout
        if begin in out and end in out:
            outputs.append(out.split(begin, 1)[1].split(end, 1)[0].strip("\n"))
        else:
            outputs.append("")
    return GdbResult(outputs, p.stdout, p.stderr, p.returncode)
