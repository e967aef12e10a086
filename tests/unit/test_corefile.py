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
