"""`info` on every build: core mode, gdb on the same core, and gdb on the live program
stopped at a breakpoint — against the program's own account, Go's crash traceback and
gdb's view of the threads."""

from __future__ import annotations

import json
import re
import struct

import pytest
from elftools.elf.elffile import ELFFile

from tests.integration import matrix
from tests.integration import traceback as go_traceback
from tests.integration.cli import godbg_json
from tests.integration.gdbrun import gdb_batch

STACK_GUARD = 928  # linux/amd64 and arm64, no -race: runtime/stack.go stackGuard
MACHINES = {"amd64": "EM_X86_64", "arm64": "EM_AARCH64"}


def _core_machine(core: str) -> str:
    with open(core, "rb") as f:
        return ELFFile(f)["e_machine"]


def _core_threads(core: str) -> list[tuple[int, int]]:
    """(pid, pending signal) of each NT_PRSTATUS note, in the core's order (struct
    elf_prstatus: pr_cursig at byte 12, pr_pid at byte 32 on every 64-bit Linux)."""
    out = []
    with open(core, "rb") as f:
        for seg in ELFFile(f).iter_segments():
            if seg["p_type"] == "PT_NOTE":
                for note in seg.iter_notes():
                    if note["n_type"] == "NT_PRSTATUS":
                        raw = note["n_desc"]
                        if isinstance(raw, str):
                            raw = raw.encode("latin-1")
                        out.append((struct.unpack_from("<i", raw, 32)[0], struct.unpack_from("<H", raw, 12)[0]))
    return out


def _threads(info_threads: str) -> list[int]:
    # core: "LWP 25466"; live: "Thread 0x7f… (LWP 25466)"
    return [int(t) for t in re.findall(r"LWP (\d+)", info_threads)]


@pytest.mark.pie("all", external=True)
@pytest.mark.arm64
def test_info_on_core(build, core_kind):
    fx = matrix.crash("basic", build, core_kind=core_kind)
    doc = godbg_json(fx, "info")
    experiments = " X:" + ",".join(doc["goexperiments"]) if doc["goexperiments"] else ""
    assert doc["go_version"] + experiments == fx.truth["go_version"]
    assert doc["goarch"] == fx.truth["goarch"] == build.goarch
    assert doc["map_impl"] == build.map_impl
    # every goroutine Go's own crash traceback lists, no more
    assert doc["goroutines"] == len(fx.traceback.goroutines)
    assert doc["maxstacksize"] == fx.truth["maxstacksize"]
    assert doc["stack_guard"] == STACK_GUARD
    assert doc["signal"] == fx.signal == "SIGABRT"
    if build.cross:
        # qemu-user's core: this machine's gdb reads no other architecture. The thread
        # notes, read with pyelftools, stand in for gdb's `info threads`.
        threads = _core_threads(str(fx.core))
        assert _core_machine(str(fx.core)) == MACHINES[build.goarch]
        assert doc["ms"] == len(threads)
        assert doc["crash_thread"] == next(pid for pid, sig in threads if sig)
        return
    res = gdb_batch(["info threads", "go info --json"], str(fx.binary), str(fx.core))
    threads = _threads(res.outputs[0])
    # a cgo-free program has one thread per M; linked with runtime/cgo (external linking) it
    # also has the one extra M the runtime keeps for C threads calling Go, with no thread yet;
    # gdb's thread 1 is the one that got the signal
    assert doc["ms"] == len(threads) + (1 if build.external else 0)
    # "(LWP N)", or "(Thread 0x… (LWP N))" for a program linked with libpthread
    current = re.search(r"Current thread is 1 \((?:Thread 0x[0-9a-f]+ \()?LWP (\d+)\)", res.stdout)
    assert current and doc["crash_thread"] == int(current.group(1))
    assert json.loads(res.outputs[1]) == doc


@pytest.mark.pie("ends")
def test_info_live_at_breakpoint(build, tmp_path):
    binary = matrix.build_program("basic", build)
    env = matrix.program_env(tmp_path)
    # `delete` first: a goroutine preempted on the breakpoint would report it again.
    res = gdb_batch(["go info --json", "info threads", "delete", "continue"], str(binary),
                    before=["break main.readyForCore", "run"], env=env, cwd=str(tmp_path))
    doc = json.loads(res.outputs[0])
    truth = json.loads((tmp_path / "truth.json").read_text())
    experiments = " X:" + ",".join(doc["goexperiments"]) if doc["goexperiments"] else ""
    assert doc["go_version"] + experiments == truth["go_version"]
    assert doc["map_impl"] == build.map_impl and doc["goarch"] == "amd64"
    assert doc["maxstacksize"] == truth["maxstacksize"]
    assert doc["stack_guard"] == STACK_GUARD
    assert doc["signal"] is None and doc["crash_thread"] is None
    assert doc["ms"] == len(_threads(res.outputs[1]))
    # Only the panic is left after readyForCore: the crash traceback that `continue`
    # produces lists the goroutines that existed at the breakpoint.
    both = res.stdout + res.stderr
    assert "panic: " in both, both[-3000:]
    tb = go_traceback.parse(both[both.index("panic: "):])
    assert doc["goroutines"] == len(tb.goroutines)


@pytest.mark.arm64
def test_bad_input_is_one_line(build, tmp_path):
    fx = matrix.crash("basic", build)
    other = matrix.crash("headroom", build)
    cases = {
        "wrong binary": ["core", str(other.binary), str(fx.core), "info"],
        "not a core": ["core", str(fx.binary), str(fx.binary), "info"],
        "truncated": ["core", str(fx.binary), str(_truncated(fx, tmp_path)), "info"],
        "no such file": ["core", str(fx.binary), str(tmp_path / "nope"), "info"],
    }
    from tests.integration.cli import godbg

    for what, argv in cases.items():
        p = godbg(*argv)
        assert p.returncode == 2, (what, p.stdout, p.stderr)
        assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr, (what, p.stderr)
        assert p.stdout == ""


def _truncated(fx: matrix.Fixture, tmp_path) -> str:
    data = fx.core.read_bytes()
    out = tmp_path / "core.truncated"
    out.write_bytes(data[: len(data) // 2])
    return str(out)


@pytest.mark.arm64
@pytest.mark.core_kinds("kernel")
def test_wrong_binary_message(build, core_kind):
    fx = matrix.crash("basic", build, core_kind=core_kind)
    other = matrix.crash("headroom", build)
    from tests.integration.cli import godbg

    p = godbg("core", str(other.binary), str(fx.core), "info")
    # kernel cores hold the build id notes; qemu's hold the read-only data instead
    # Refused by the build ids (or qemu's pclntab copy), or before that by the entry point
    # the core's auxiliary vector records.
    assert p.returncode == 2 and p.stderr.count("\n") == 1
    assert "was not dumped by" in p.stderr or "does not match the process" in p.stderr, p.stderr


@pytest.mark.arm64
@pytest.mark.builds(lambda b: b.cross and b.go == matrix.GO_VERSIONS[-1])
def test_stripped_other_arch_is_refused(build):
    """godbg's built-in layouts and global finders are amd64's: a stripped arm64 binary is
    refused by every command with one line, never answered wrongly."""
    fx = matrix.crash("basic", build.variant(stripped=True))
    from tests.integration.cli import godbg_core

    for argv in (["info"], ["goroutines"], ["bt", "1"], ["ms"], ["headroom"], ["panic"], ["report"]):
        p = godbg_core(fx, *argv)
        assert p.returncode == 2 and p.stdout == "", (argv, p.stdout)
        assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr, (argv, p.stderr)
        assert "arm64" in p.stderr or "DWARF" in p.stderr, (argv, p.stderr)
