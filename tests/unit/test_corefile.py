"""The core-file reader on synthetic cores: threads, registers, signal, memory, and the
clear errors for files that are not cores or are cut short."""

from __future__ import annotations

import pytest

from godbg.backends.core.corefile import CoreFile
from godbg.errors import TargetError
from tests.unit.corebuilder import CoreSpec, build_core


def write(tmp_path, blob: bytes, name: str = "core") -> str:
    p = tmp_path / name
    p.write_bytes(blob)
    return str(p)


def sample_spec() -> CoreSpec:
    return CoreSpec(
        threads=[(101, {"rip": 0x401000, "rsp": 0x7000, "rbp": 0x7100}, 6), (102, {"rip": 0x402000}, 0)],
        segments=[(0x10000, bytes(range(256)) * 16, 0), (0x20000, b"", 0x1000)],
        siginfo=(6, -6, 101),
    )


def test_threads_and_signal(tmp_path):
    core = CoreFile(write(tmp_path, build_core(sample_spec())))
    assert [t.tid for t in core.threads] == [101, 102]
    assert core.threads[0].pc == 0x401000 and core.threads[0].sp == 0x7000 and core.threads[0].fp == 0x7100
    assert core.crash_thread.tid == 101
    assert core.siginfo.name == "SIGABRT"


def test_aarch64_threads(tmp_path):
    """struct user_pt_regs in an aarch64 NT_PRSTATUS (392 bytes, as qemu-aarch64 and the
    kernel write it): x0..x30, sp, pc, pstate; x29 is the frame pointer, x30 LR."""
    spec = CoreSpec(threads=[(7, {"pc": 0x90378, "sp": 0x4000_0bf0, "x29": 0x4000_0c00, "x30": 0x6c52c,
                                  "pstate": 0x6000_0000}, 6), (8, {"pc": 0x90000}, 0)],
                    segments=[(0x10000, b"\0" * 64, 0)], machine=183)
    core = CoreFile(write(tmp_path, build_core(spec)))
    assert core.goarch == "arm64"
    t = core.crash_thread
    assert (t.tid, t.pc, t.sp, t.fp, t.lr) == (7, 0x90378, 0x4000_0bf0, 0x4000_0c00, 0x6c52c)
    assert t.regs["pstate"] == 0x6000_0000 and core.threads[1].lr == 0


def test_memory_within_and_outside_segments(tmp_path):
    core = CoreFile(write(tmp_path, build_core(sample_spec())))
    assert core.read_own(0x10010, 4) == bytes([16, 17, 18, 19])
    # spans the end of the dumped bytes: not served by the core itself
    assert core.read_own(0x10000 + 4095, 2) is None
    # the second segment has no file bytes (memsz only)
    assert core.read_own(0x20000, 8) is None
    assert core.read_own(0x30000, 1) is None


def test_not_a_core(tmp_path):
    with pytest.raises(TargetError, match="not an ELF core"):
        CoreFile(write(tmp_path, b"hello world" * 10))


def test_elf_but_not_core(tmp_path):
    blob = bytearray(build_core(sample_spec()))
    blob[16] = 2  # ET_EXEC
    with pytest.raises(TargetError, match="not a core"):
        CoreFile(write(tmp_path, bytes(blob)))


@pytest.mark.parametrize("keep", [10, 64, 200, 1000])
def test_truncated(tmp_path, keep):
    blob = build_core(sample_spec())
    with pytest.raises(TargetError, match="truncated|not a core"):
        CoreFile(write(tmp_path, blob[:keep]))
