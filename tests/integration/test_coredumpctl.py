"""`godbg core BIN --coredump PID|latest`: the core out of systemd-coredump's store.

Where systemd-coredump takes this machine's cores (core_pattern pipes to it) a real crash
is taken back out through coredumpctl. Everywhere, a stand-in `coredumpctl` on PATH
(answering `dump --output=FILE MATCH` the way coredumpctl does, from a fixture's core)
checks what godbg asks for and that it reads what comes back; and with no coredumpctl
on PATH, godbg says so in one line."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration import matrix
from tests.integration.cli import godbg, godbg_json
from tests.integration.test_bad_input import one_line_error

pytestmark = pytest.mark.builds(lambda b: b.go == matrix.GO_VERSIONS[-1] and not b.goexperiment
                                and not b.stripped)

# Prints its arguments to $STUB_LOG; copies $STUB_CORE to --output=FILE for the PID in
# $STUB_PID or the match COREDUMP_EXE=$STUB_EXE; else fails as coredumpctl does.
STUB = """#!{python}
import os, shutil, sys
args = sys.argv[1:]
with open(os.environ["STUB_LOG"], "a") as log:
    log.write(" ".join(args) + "\\n")
out = [a.split("=", 1)[1] for a in args if a.startswith("--output=")]
match = [a for a in args if not a.startswith("-") and a != "dump"]
if match in ([os.environ["STUB_PID"]], ["COREDUMP_EXE=" + os.environ["STUB_EXE"]]):
    shutil.copyfile(os.environ["STUB_CORE"], out[0])
    sys.exit(0)
sys.stderr.write("No coredumps found.\\n")
sys.exit(1)
"""


def _env_without_coredumpctl(tmp_path: Path) -> dict[str, str]:
    """PATH with only the Python running the tests: no coredumpctl on it."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(sys.executable, bindir / "python3")
    return {**os.environ, "PATH": str(bindir)}


def test_coredumpctl_missing_is_one_line(build, tmp_path):
    fx = matrix.crash("basic", build)
    p = subprocess.run([sys.executable, "-m", "godbg", "core", str(fx.binary), "--coredump", "latest", "info"],
                       capture_output=True, text=True, env=_env_without_coredumpctl(tmp_path), timeout=120)
    one_line_error(p, "coredumpctl", "not on PATH")


def test_bad_selector_is_one_line(build):
    fx = matrix.crash("basic", build)
    one_line_error(godbg("core", str(fx.binary), "--coredump", "yesterday", "info"), "'latest'")


def test_stand_in_coredumpctl(build, tmp_path):
    fx = matrix.crash("basic", build)
    stub = tmp_path / "bin" / "coredumpctl"
    stub.parent.mkdir()
    stub.write_text(STUB.format(python=sys.executable))
    stub.chmod(0o755)
    log = tmp_path / "log"
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "PATH": f"{stub.parent}:{os.environ['PATH']}",
           "STUB_LOG": str(log),
           "STUB_CORE": str(fx.core), "STUB_PID": "4242", "STUB_EXE": os.path.realpath(fx.binary)}
    expected = godbg_json(fx, "info")
    for selector in ("4242", "latest"):
        p = godbg("core", str(fx.binary), "--coredump", selector, "info", "--json", env=env)
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout) == expected
    calls = log.read_text().splitlines()
    assert calls[0].endswith(" 4242") and " dump --output=" in calls[0]
    assert calls[1].endswith(f" COREDUMP_EXE={os.path.realpath(fx.binary)}")
    # no core of that process: coredumpctl's own words, on one line
    one_line_error(godbg("core", str(fx.binary), "--coredump", "17", "info", env=env),
                   "no core of process 17", "No coredumps found")
    # the dumped file is gone once godbg is done
    assert not list((tmp_path / "tmp").iterdir())


def _systemd_coredump_takes_cores() -> bool:
    try:
        pattern = Path("/proc/sys/kernel/core_pattern").read_text()
    except OSError:
        return False
    return pattern.startswith("|") and "systemd-coredump" in pattern and shutil.which("coredumpctl") is not None


@pytest.mark.skipif(not _systemd_coredump_takes_cores(),
                    reason="this machine's cores do not go to systemd-coredump")
def test_real_systemd_coredump(build, tmp_path):
    binary = matrix.build_program("basic", build)
    env = matrix.program_env(tmp_path)
    def allow_cores() -> None:  # systemd-coredump keeps nothing under RLIMIT_CORE 0
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    p = subprocess.run([str(binary)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                       preexec_fn=allow_cores)
    assert p.returncode != 0
    truth = json.loads((tmp_path / "truth.json").read_text())
    doc = json.loads(godbg("core", str(binary), "--coredump", "latest", "info", "--json").stdout)
    experiments = " X:" + ",".join(doc["goexperiments"]) if doc["goexperiments"] else ""
    assert doc["go_version"] + experiments == truth["go_version"]
    assert doc["signal"] == "SIGABRT"
