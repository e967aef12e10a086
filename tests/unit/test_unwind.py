"""The unwinder on synthetic programs: a pclntab built in the test and stack memory
laid out by hand (amd64, and arm64's LR frames), including traps, injected calls, TOPFRAME/SPWRITE ends,
corrupt stacks and the kernel's signal frame."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from godbg.errors import FaultError
from godbg.program.memory import CachedMemory
from godbg.program.pclntab import FUNC_FLAG_SPWRITE, FUNC_FLAG_TOP_FRAME, Pclntab
from godbg.program.target import Target
from godbg.runtime.m import SIGCTX_AMD64, SIGCTX_ARM64, SIGINFO_SIZE_ARM64, UC_MCONTEXT, signal_context
from godbg.runtime.unwind import StackWindow, Start, Unwinder, elide
from tests.unit.pclntab_builder import GOFUNC, TEXT, FuncSpec, build, static_reader

SIGPANIC_ID = 20
FILES = ["/go/src/runtime/asm.s", "/src/main.go"]

# name, size, pcsp (end, delta) runs, flag, func_id
LAYOUT = [
    ("runtime.goexit", 0x10, [(0x10, 0)], FUNC_FLAG_TOP_FRAME, 8),
    ("main.worker", 0x40, [(0x4, 0), (0x40, 0x18)], 0, 0),
    ("runtime.chanrecv", 0x40, [(0x4, 0), (0x40, 0x28)], 0, 0),
    ("runtime.gopark", 0x20, [(0x2, 0), (0x20, 0x10)], 0, 0),
    ("runtime.sigpanic", 0x20, [(0x20, 0x8)], 0, SIGPANIC_ID),
    ("runtime.mcall", 0x20, [(0x20, 0)], FUNC_FLAG_SPWRITE, 12),
]
ENTRY = {}
_pos = TEXT
for _name, _size, *_rest in LAYOUT:
    ENTRY[_name] = _pos
    _pos += _size
STACK_LO = 0x7000_0000
STACK_HI = STACK_LO + 0x1000


class FakeRaw:
    def __init__(self, segments: dict[int, bytes]) -> None:
        self.segments = segments

    def read(self, address: int, size: int) -> bytes:
        for base, blob in self.segments.items():
            if base <= address and address + size <= base + len(blob):
                return blob[address - base : address - base + size]
        raise FaultError(address, size)


@dataclass
class FakeBinary:
    pclntab: Pclntab
    goarch: str = "amd64"
    ptr_size: int = 8


def make_target(stack: bytes, goarch: str = "amd64") -> Target:
    specs = [FuncSpec(name, size, pcsp=pcsp, lines=[(size, 100 + i)], file=1 if name.startswith("main") else 0,
                      flag=flag, func_id=fid) for i, (name, size, pcsp, flag, fid) in enumerate(LAYOUT)]
    data, static = build(specs, FILES)
    tab = Pclntab(data, text=TEXT, gofunc=GOFUNC, read_static=static_reader(static))
    memory = CachedMemory(FakeRaw({STACK_LO: stack}))
    return Target(binary=FakeBinary(tab, goarch), memory=memory, kind="core",  # type: ignore[arg-type]
                  threads_fn=list)


def parked_stack() -> tuple[bytes, int]:
    """gopark <- chanrecv <- worker <- goexit, parked at sp; returns (stack, sp)."""
    buf = bytearray(STACK_HI - STACK_LO)
    sp = STACK_HI - 0x100
    # gopark frame: delta 0x10, return address at sp+0x10 -> chanrecv
    struct.pack_into("<Q", buf, sp + 0x10 - STACK_LO, ENTRY["runtime.chanrecv"] + 0x20)
    sp1 = sp + 0x18
    struct.pack_into("<Q", buf, sp1 + 0x28 - STACK_LO, ENTRY["main.worker"] + 0x30)
    sp2 = sp1 + 0x30
    struct.pack_into("<Q", buf, sp2 + 0x18 - STACK_LO, ENTRY["runtime.goexit"] + 1)
    return bytes(buf), sp


def test_parked_goroutine() -> None:
    stack, sp = parked_stack()
    t = make_target(stack)
    u = Unwinder(t)
    walk = u.walk(Start(ENTRY["runtime.gopark"] + 0x10, sp), StackWindow(t, sp, STACK_HI), lo=STACK_LO, hi=STACK_HI)
    assert walk.stop == "top"
    assert [f.func.name for f in walk.frames] == ["runtime.gopark", "runtime.chanrecv", "main.worker",
                                                  "runtime.goexit"]
    assert [f.sp - sp for f in walk.frames] == [0, 0x18, 0x48, 0x68]
    assert [f.fp for f in walk.frames[:-1]] == [f.sp for f in walk.frames[1:]]
    # Callers are symbolized inside their CALL (pc-1); a pc at an entry stays.
    assert walk.frames[1].sym_pc == walk.frames[1].pc - 1
    assert walk.frames[3].pc == ENTRY["runtime.goexit"] + 1
    frames = u.logical(walk.frames[2])
    assert (frames[0].function, frames[0].file, frames[0].line, frames[0].inlined) == \
        ("main.worker", "/src/main.go", 101, False)
    # The same walk through a plain word reader (the gdb path) gives the same frames.
    again = u.walk(Start(ENTRY["runtime.gopark"] + 0x10, sp), t.memory.u64, lo=STACK_LO, hi=STACK_HI)
    assert again.frames == walk.frames


def test_parked_goroutine_arm64() -> None:
    """arm64 (LR machine): no pushed return address, so fp = sp + the SP delta, and each
    frame's return address is the LR its callee saved at 0(callee's SP)."""
    buf = bytearray(STACK_HI - STACK_LO)
    sp = STACK_HI - 0x100
    struct.pack_into("<Q", buf, sp - STACK_LO, ENTRY["runtime.chanrecv"] + 0x20)
    sp1 = sp + 0x10
    struct.pack_into("<Q", buf, sp1 - STACK_LO, ENTRY["main.worker"] + 0x30)
    sp2 = sp1 + 0x28
    struct.pack_into("<Q", buf, sp2 - STACK_LO, ENTRY["runtime.goexit"] + 4)
    t = make_target(bytes(buf), "arm64")
    u = Unwinder(t)
    walk = u.walk(Start(ENTRY["runtime.gopark"] + 0x10, sp), StackWindow(t, sp, STACK_HI), lo=STACK_LO, hi=STACK_HI)
    assert walk.stop == "top"
    assert [f.func.name for f in walk.frames] == ["runtime.gopark", "runtime.chanrecv", "main.worker",
                                                  "runtime.goexit"]
    assert [f.sp - sp for f in walk.frames] == [0, 0x10, 0x38, 0x50]
    assert [f.fp for f in walk.frames[:-1]] == [f.sp for f in walk.frames[1:]]
    # A thread stopped in a leaf before it saved LR (SP delta 0): the return address is
    # the LR register, and the caller's frame starts at the same SP.
    leaf = u.walk(Start(ENTRY["runtime.gopark"], sp1, lr=ENTRY["runtime.chanrecv"] + 0x20, trap=True),
                  StackWindow(t, sp1, STACK_HI), lo=STACK_LO, hi=STACK_HI)
    assert [(f.func.name, f.sp - sp) for f in leaf.frames] == [
        ("runtime.gopark", 0x10), ("runtime.chanrecv", 0x10), ("main.worker", 0x38), ("runtime.goexit", 0x50)]


def test_until_stops_early_and_max_frames() -> None:
    stack, sp = parked_stack()
    t = make_target(stack)
    u = Unwinder(t)
    start = Start(ENTRY["runtime.gopark"] + 0x10, sp)
    walk = u.walk(start, StackWindow(t, sp, STACK_HI), until=lambda f: f.func.name == "main.worker")
    assert (walk.stop, len(walk.frames)) == ("until", 3)
    limited = u.walk(start, StackWindow(t, sp, STACK_HI), max_frames=2)
    assert (limited.stop, len(limited.frames)) == ("limit", 2)
    bounded = u.walk(start, StackWindow(t, sp, STACK_HI), lo=STACK_LO, hi=sp + 0x20)
    assert bounded.stop == "bounds"


def test_injected_call_makes_the_caller_a_trap() -> None:
    """sigpanic's caller was interrupted, not calling: its pc is not backed up."""
    buf = bytearray(STACK_HI - STACK_LO)
    sp = STACK_HI - 0x100
    struct.pack_into("<Q", buf, sp + 0x8 - STACK_LO, ENTRY["main.worker"] + 0x20)  # sigpanic -> worker
    sp1 = sp + 0x10
    struct.pack_into("<Q", buf, sp1 + 0x18 - STACK_LO, ENTRY["runtime.goexit"] + 1)
    t = make_target(bytes(buf))
    u = Unwinder(t)
    walk = u.walk(Start(ENTRY["runtime.sigpanic"] + 4, sp, trap=True), StackWindow(t, sp, STACK_HI))
    assert [f.func.name for f in walk.frames] == ["runtime.sigpanic", "main.worker", "runtime.goexit"]
    assert walk.frames[0].trap and walk.frames[1].trap and not walk.frames[2].trap
    assert walk.frames[1].sym_pc == walk.frames[1].pc


def test_spwrite_and_unknown_pcs_end_the_walk() -> None:
    stack, sp = parked_stack()
    t = make_target(stack)
    u = Unwinder(t)
    spw = u.walk(Start(ENTRY["runtime.mcall"] + 4, sp), StackWindow(t, sp, STACK_HI))
    assert (spw.stop, [f.func.name for f in spw.frames]) == ("spwrite", ["runtime.mcall"])
    # From a syscall's saved pc/sp, Go ignores SPWRITE for the first frame.
    assert u.walk(Start(ENTRY["runtime.mcall"] + 4, sp, syscall=True), StackWindow(t, sp, STACK_HI)).stop != "spwrite"
    assert u.walk(Start(0x10, sp), StackWindow(t, sp, STACK_HI)).stop == "unknown-pc"
    bad = bytearray(stack)
    struct.pack_into("<Q", bad, sp + 0x10 - STACK_LO, 0xDEAD)
    t2 = make_target(bytes(bad))
    walk = Unwinder(t2).walk(Start(ENTRY["runtime.gopark"] + 0x10, sp), StackWindow(t2, sp, STACK_HI))
    assert (walk.stop, len(walk.frames)) == ("bad-return-pc", 1)


def test_unreadable_stack_is_a_fault_not_an_exception() -> None:
    stack, _sp = parked_stack()
    t = make_target(stack)
    walk = Unwinder(t).walk(Start(ENTRY["runtime.gopark"] + 0x10, 0x1000), StackWindow(t, 0x1000, 0x2000))
    assert walk.stop == "fault" and walk.frames == []


def test_nil_function_call_starts_in_the_caller() -> None:
    stack, sp = parked_stack()
    buf = bytearray(stack)
    struct.pack_into("<Q", buf, sp - 8 - STACK_LO, ENTRY["runtime.chanrecv"] + 0x20)
    t = make_target(bytes(buf))
    walk = Unwinder(t).walk(Start(0, sp - 8), StackWindow(t, sp - 8, STACK_HI))
    assert walk.frames[0].func.name == "runtime.chanrecv" and walk.frames[0].sp == sp


def test_signal_context_amd64() -> None:
    """The kernel's rt_sigframe: pretcode then the ucontext, right at sigtramp's fp."""
    buf = bytearray(STACK_HI - STACK_LO)
    fp = STACK_LO + 0x400
    mc = fp + UC_MCONTEXT["amd64"] - STACK_LO
    struct.pack_into("<Q", buf, mc + SIGCTX_AMD64["pc"], 0x401234)
    struct.pack_into("<Q", buf, mc + SIGCTX_AMD64["sp"], 0x7000_0800)
    struct.pack_into("<Q", buf, mc + SIGCTX_AMD64["bp"], 0x7000_0900)
    t = make_target(bytes(buf))
    from godbg.runtime.unwind import PhysFrame

    frame = PhysFrame(0x401000, fp - 0x50, fp, 0, t.binary.pclntab.func_at(0), False)
    regs = signal_context(t, frame)
    assert regs is not None and (regs.pc, regs.sp, regs.fp) == (0x401234, 0x7000_0800, 0x7000_0900)


def test_signal_context_arm64() -> None:
    """arm64 rt_sigframe at sigtramp's entry SP (its fp): siginfo (128 bytes), then the
    ucontext with uc_mcontext 176 bytes in (runtime/defs_linux_arm64.go): fault_address,
    regs[31], sp, pc."""
    assert (SIGINFO_SIZE_ARM64, UC_MCONTEXT["arm64"]) == (128, 8 + 8 + 24 + 8 + 120 + 8)
    assert SIGCTX_ARM64 == {"fp": 8 + 29 * 8, "lr": 8 + 30 * 8, "sp": 8 + 31 * 8, "pc": 8 + 32 * 8}
    buf = bytearray(STACK_HI - STACK_LO)
    fp = STACK_LO + 0x400
    mc = fp + SIGINFO_SIZE_ARM64 + UC_MCONTEXT["arm64"] - STACK_LO
    for reg, value in (("pc", 0x401234), ("sp", 0x7000_0800), ("fp", 0x7000_0900), ("lr", 0x401100)):
        struct.pack_into("<Q", buf, mc + SIGCTX_ARM64[reg], value)
    t = make_target(bytes(buf), "arm64")
    from godbg.runtime.unwind import PhysFrame

    frame = PhysFrame(0x401000, fp - 0xb0, fp, 0, t.binary.pclntab.func_at(0), False)
    regs = signal_context(t, frame)
    assert regs is not None
    assert (regs.pc, regs.sp, regs.fp, regs.lr) == (0x401234, 0x7000_0800, 0x7000_0900, 0x401100)


def test_elide_keeps_both_ends() -> None:
    frames = list(range(1200))
    kept, n = elide(frames, 500, 500)  # type: ignore[arg-type]
    assert n == 200 and kept[:3] == [0, 1, 2] and kept[-1] == 1199 and len(kept) == 1000
    assert elide(frames[:10], 500, 500) == (frames[:10], 0)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=0x100, max_size=0x100), st.sampled_from([name for name, *_ in LAYOUT]),
       st.integers(0, 0x1F))
def test_random_stacks_always_end(noise: bytes, func: str, off: int) -> None:
    """Garbage stacks end with a reason; never an exception, never a loop."""
    stack, sp = parked_stack()
    buf = bytearray(stack)
    buf[sp - STACK_LO : sp - STACK_LO + len(noise)] = noise
    # Sprinkle valid return addresses so walks get somewhere.
    for i in range(0, len(noise), 24):
        struct.pack_into("<Q", buf, sp - STACK_LO + i, ENTRY[func] + off)
    t = make_target(bytes(buf))
    walk = Unwinder(t).walk(Start(ENTRY[func] + off, sp), StackWindow(t, sp, STACK_HI), lo=STACK_LO, hi=STACK_HI)
    assert walk.stop
    assert all(a.sp < b.sp for a, b in zip(walk.frames, walk.frames[1:]))
