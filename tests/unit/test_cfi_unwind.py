"""Native frame stepping (CFI rules and the frame-pointer chain) on synthetic stacks,
and the way a fatal signal is printed."""

from __future__ import annotations

import struct

from godbg.program.cfi import FrameRules, RegRule
from godbg.runtime.cfi_unwind import PC, _by_cfi, _by_frame_pointer
from godbg.runtime.signals import SOURCE_FRAME, SOURCE_G, FatalSignal
from tests.unit.fakes import FakeMemory

RSP, RBP, RBX, RA = 7, 6, 3, 16
STACK = 0x7FFF_0000


def _stack(words: list[int]) -> FakeMemory:
    mem = FakeMemory()
    mem.put(STACK, struct.pack(f"<{len(words)}Q", *words))
    return mem


def test_cfi_step_restores_the_callers_registers() -> None:
    # push rbx; then the CFA is rsp+16: [CFA-8] return address, [CFA-16] saved rbx.
    mem = _stack([0xB0B, 0x401234])
    rules = FrameRules(RSP, 16, {RA: RegRule("offset", -8), RBX: RegRule("offset", -16)}, RA, 0x401000)
    caller = _by_cfi("amd64", {PC: 0x402000, RSP: STACK, RBX: 1, RBP: 0x55, 0: 9}, rules, mem.u64)
    assert caller == {PC: 0x401234, RSP: STACK + 16, RBX: 0xB0B, RBP: 0x55}


def test_cfi_undefined_return_address_ends_the_stack() -> None:
    rules = FrameRules(RSP, 8, {RA: RegRule("undefined")}, RA, 0)
    assert _by_cfi("amd64", {PC: 1, RSP: STACK}, rules, _stack([0]).u64) is None


def test_frame_pointer_chain() -> None:
    mem = _stack([0, 0, STACK + 0x40, 0x405555])  # at rbp: saved rbp, return address
    caller = _by_frame_pointer({PC: 1, RSP: STACK, RBP: STACK + 16}, RSP, RBP, mem.u64)
    assert caller == {PC: 0x405555, RSP: STACK + 32, RBP: STACK + 0x40}
    # a frame pointer below sp is not a frame
    assert _by_frame_pointer({PC: 1, RSP: STACK + 16, RBP: STACK}, RSP, RBP, mem.u64) is None


def test_fatal_signal_lines_as_go_prints_them() -> None:
    frame = FatalSignal("SIGSEGV", 11, "SIGSEGV: segmentation violation", 1, 0, 0x527DA0, "c_deref", True, 3, 1,
                        SOURCE_FRAME)
    assert frame.go_lines() == ["SIGSEGV: segmentation violation", "PC=0x527da0 m=3 sigcode=1 addr=0x0",
                                "signal arrived during cgo execution"]
    assert frame.headline() == ("SIGSEGV: segmentation violation in c_deref: PC=0x527da0 m=3 sigcode=1 addr=0x0, "
                                "signal arrived during cgo execution")
    quit_ = FatalSignal("SIGQUIT", 3, "SIGQUIT: quit", 0, None, 0x46F0E1, "runtime.futex", False, 0, None,
                        SOURCE_FRAME)
    assert quit_.go_lines() == ["SIGQUIT: quit", "PC=0x46f0e1 m=0 sigcode=0"]
    assert quit_.to_json()["addr"] is None
    go = FatalSignal("SIGSEGV", 11, "SIGSEGV: segmentation violation", 1, 0, 0x527287, "main.derefNil", False, 3, 1,
                     SOURCE_G)
    assert go.go_lines() == ["[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x527287]"]


LIBC = "/lib/x86_64-linux-gnu/libc.so.6"
LIBC_BASE = 0x7F00_0000_0000


def _libc_code(read):  # type: ignore[no-untyped-def]
    import os

    import pytest
    from elftools.elf.elffile import ELFFile

    from godbg.program.native import Mapping, NativeCode, NativeImage, build_id

    if not os.path.exists(LIBC):
        pytest.skip(f"no {LIBC} on this machine")
    with open(LIBC, "rb") as f:
        ident = build_id(ELFFile(f))
    exe = NativeImage("/bin/prog", 0, None)  # type: ignore[arg-type]
    return NativeCode(exe, (0x400000, 0x500000), [Mapping(LIBC_BASE, LIBC_BASE + (2 << 20), 0, LIBC)],
                      lambda a, n: read(ident, a, n)), ident


def test_a_shared_library_is_read_when_its_build_id_matches() -> None:
    code, ident = _libc_code(lambda ident, a, n: (b"\0" * 16 + ident).ljust(n, b"\0"))
    image = code.image_at(LIBC_BASE + 0x1000)
    assert image is not None and image.bias == LIBC_BASE and not code.notes
    assert code.library_name(LIBC_BASE + 0x1000) == "libc.so.6"


def test_a_different_shared_library_is_not_used() -> None:
    code, _ident = _libc_code(lambda ident, a, n: b"\1" * n)
    assert code.image_at(LIBC_BASE + 0x1000) is None
    assert len(code.notes) == 1 and "build ids differ" in code.notes[0]
