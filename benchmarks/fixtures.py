"""Big benchmark cores, cached under ``$GODBG_CACHE/bench`` (default ``~/.cache/godbg/bench``).

The programs are built with the test matrix's recipe (``tests/integration/matrix.py``:
same toolchains, same build cache); the crash is the kernel's core dump of the
program dying with ``GOTRACEBACK=crash``, never a ``gcore`` (gdb would take minutes
and gigabytes for a million goroutines). Go's own traceback of a million goroutines
is over a gigabyte of text that no benchmark reads, so only its first lines are kept.
A core is keyed like the test fixtures: by the build (sources, toolchain, flags), the
run's arguments and the recipe version below; a stale one may be deleted at will.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.integration import matrix  # noqa: E402

# Bump when the way a benchmark core is made changes, to retire cached ones.
BENCH_RECIPE = 1
# Go's traceback kept beside the core (the rest is read and dropped).
STDERR_KEPT = 1 << 20
PIPE_CHUNK = 1 << 16


@dataclass(frozen=True)
class BenchCore:
    program: str
    go: str
    args: tuple[str, ...]
    binary: Path
    core: Path

    @property
    def size(self) -> int:
        return self.core.stat().st_size


def bench_dir() -> Path:
    return matrix.cache_dir() / "bench"


def core_for(program: Path, go: str, args: list[str], timeout: float = 1800) -> BenchCore:
    """The cached core of ``program`` built with Go ``go`` and run with ``args``; made
    (once, under a file lock) when missing."""
    build = matrix.Build(go)
    binary = matrix.build_program(program, build)
    key = matrix._short_hash(repr((BENCH_RECIPE, list(args))), 10)
    out = bench_dir() / program.name / binary.parent.name / f"kernel-{key}"
    if not (out / "result.json").exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        with matrix._locked(out):
            if not (out / "result.json").exists():
                tmp = matrix._fresh_tmp(out)
                try:
                    _crash(tmp, binary, args, timeout)
                except BaseException:
                    subprocess.run(["rm", "-rf", str(tmp)], check=False)
                    raise
                matrix._publish(tmp, out)
    return BenchCore(program.name, go, tuple(args), binary, out / "core")


def _crash(workdir: Path, binary: Path, args: list[str], timeout: float) -> None:
    env = matrix.program_env(workdir)
    prefix = matrix.kernel_core_prefix()
    before = set(os.listdir(workdir))
    proc = subprocess.Popen([str(binary), *args], cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=matrix._allow_cores)
    kept = bytearray()
    assert proc.stderr is not None
    while chunk := proc.stderr.read(PIPE_CHUNK):
        if len(kept) < STDERR_KEPT:
            kept += chunk[: STDERR_KEPT - len(kept)]
    returncode = proc.wait(timeout=timeout)
    (workdir / "stderr-head.txt").write_bytes(bytes(kept))
    cores = sorted(n for n in set(os.listdir(workdir)) - before - {"stderr-head.txt"} if n.startswith(prefix))
    if returncode >= 0 or len(cores) != 1:
        raise matrix.MatrixError(f"{binary.name} {args} exited {returncode} leaving {cores}: "
                                 f"{bytes(kept[-2000:]).decode(errors='replace')}")
    if cores[0] != "core":
        os.rename(workdir / cores[0], workdir / "core")
    (workdir / "result.json").write_text(json.dumps({"core": "core", "returncode": returncode}) + "\n")


if __name__ == "__main__":
    # python benchmarks/fixtures.py PROGRAM_DIR GO ARGS…: make (or find) one core, print its path.
    c = core_for(Path(sys.argv[1]).resolve(), sys.argv[2], sys.argv[3:])
    print(c.binary, c.core, f"{c.size >> 20} MiB")
