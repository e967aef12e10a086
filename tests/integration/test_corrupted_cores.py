"""Property tests on real cores with corrupted memory: every command, fed a core whose
runtime structures (the bytes a clean run of that command read) are overwritten with
hypothesis' choices, ends with an answer or a godbg error — never another exception,
never a hang.

CI runs a fixed number of examples with a fixed seed (derandomize). For a longer hunt:

    GODBG_FUZZ_EXAMPLES=2000 scripts/test.sh tests/integration/test_corrupted_cores.py --go-versions=1.27.3
"""

from __future__ import annotations

import os
import signal
import struct
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from godbg.backends.core.corefile import CoreFile, CoreMemory, check_core_matches
from godbg.commands.execute import execute
from godbg.errors import GodbgError
from godbg.program.binary import GoBinary
from godbg.program.memory import CachedMemory
from godbg.program.target import SignalInfo, Target
from godbg.render.theme import PLAIN
from tests.integration import matrix

EXAMPLES = int(os.environ.get("GODBG_FUZZ_EXAMPLES", "25"))
# One command on one corrupted core must finish within this many seconds.
HANG_SECONDS = 20

COMMANDS = {
    "basic": [["info"], ["goroutines"], ["bt", "1"], ["ms"], ["headroom"], ["panic"], ["map", "main.table"],
              ["report"], ["waits"], ["leaks"]],
    "maps": [["map", "main.structKV", "--stats"], ["map", "main.growing", "--stats"], ["map", "main.nested"],
             ["map", "main.ifaceVals"], ["map", "main.bigKV"]],
    "printing": [["print", "main.gCfg"], ["print", "main.gCycle", "--depth", "50"], ["print", "main.gErrs"],
                 ["print", "main.gItems[3].P"], ["map", "main.gItems"], ["bt", "1", "--full"]],
}


class Hang(Exception):
    pass


@contextmanager
def deadline(seconds: int):
    def on_alarm(signum, frame):
        raise Hang(f"no answer after {seconds}s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


class Recording(CachedMemory):
    """Remembers what the decoders asked for in a clean run (fields, headers, arrays):
    the bytes worth corrupting."""

    def __init__(self, raw) -> None:
        super().__init__(raw)
        self.reads: list[tuple[int, int]] = []

    def read(self, address: int, size: int) -> bytes:
        data = super().read(address, size)
        self.reads.append((address, size))
        return data


class Mutated:
    """The core's memory with some bytes replaced."""

    def __init__(self, raw, patches: dict[int, int]) -> None:
        self.raw = raw
        self.patches = patches

    def read(self, address: int, size: int) -> bytes:
        data = self.raw.read(address, size)
        hits = [a for a in self.patches if address <= a < address + size]
        if not hits:
            return data
        buf = bytearray(data)
        for a in hits:
            buf[a - address] = self.patches[a]
        return bytes(buf)


def make_target(binary: GoBinary, core: CoreFile, raw) -> Target:
    crash = core.crash_thread
    memory = raw if isinstance(raw, CachedMemory) else CachedMemory(raw)
    return Target(binary=binary, memory=memory, kind="core", threads_fn=lambda: list(core.threads),
                  signal=core.siginfo or (SignalInfo(crash.signal) if crash and crash.signal else None),
                  crash_thread=crash.tid if crash else None, description="fuzz", backend=core)


def _cases(program: str):
    return [pytest.param(program, cmd, id=f"{program}-{'_'.join(cmd)}") for cmd in COMMANDS[program]]


@pytest.mark.slow
@pytest.mark.core_kinds("kernel")
@pytest.mark.builds(lambda b: b.go in ("1.22.10", "1.27.3") and not b.goexperiment)
@pytest.mark.parametrize("program,argv", _cases("basic") + _cases("maps") + _cases("printing"))
def test_corrupted_core_gives_answer_or_godbg_error(build, core_kind, program, argv):
    fx = matrix.crash(program, build, core_kind=core_kind)
    binary = GoBinary(str(fx.binary))
    core = CoreFile(str(fx.core))
    check_core_matches(core, binary)
    base = CoreMemory(core, binary)
    rec = Recording(base)
    execute(make_target(binary, core, rec), argv, PLAIN)  # the clean run must work
    # Corrupt only what lives in the core's own dumped memory (heap, stacks, data), not
    # the binary's text: the decoders' inputs, not the code.
    reads = sorted({(a, n) for a, n in rec.reads if core.read_own(a, 1) is not None})
    assert reads

    # Offsets near the start of a read (a header, a field) more often than deep in an array.
    offsets = st.integers(0, 63) | st.integers(0, 1 << 20)
    byte_patch = st.tuples(st.integers(0, len(reads) - 1), offsets, st.integers(0, 255))
    word_values = st.sampled_from([0, 1, 0xFF, 0x7FFFFFFF, 0xFFFFFFFFFFFFFFFF, 0x1000, 1 << 40]) | st.integers(
        0, (1 << 64) - 1)
    word_patch = st.tuples(st.integers(0, len(reads) - 1), offsets, word_values)

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(byte_patch, max_size=12), st.lists(word_patch, max_size=6))
    def check(bytes_, words):
        patches: dict[int, int] = {}
        for i, off, value in bytes_:
            a, n = reads[i]
            patches[a + off % n] = value
        for i, off, value in words:
            a, n = reads[i]
            at = a + (off % n) // 8 * 8
            for k, b in enumerate(struct.pack("<Q", value)):
                patches[at + k] = b
        target = make_target(binary, core, Mutated(base, patches))
        try:
            with deadline(HANG_SECONDS):
                execute(target, argv, PLAIN)
        except GodbgError:
            pass

    check()
