"""Stack limit arithmetic, checked against the runtime's rules in newstack."""

from godbg.runtime.stacklimits import StackLimits, largest_pow2_at_most


def test_default_limit():
    lim = StackLimits(1_000_000_000, 2_000_000_000, 928)
    assert lim.max_stack == 512 << 20  # 1 GB is not a power of two: 512 MiB is the largest stack
    assert lim.doublings_left(8192) == 16
    assert lim.limit_headroom(600_000) == (512 << 20) - 600_000 - 928


def test_setmaxstack_power_of_two():
    lim = StackLimits(8 << 20, 2_000_000_000, 928)
    assert lim.max_stack == 8 << 20
    assert lim.doublings_left(8 << 20) == 0
    assert lim.doublings_left(4 << 20) == 1


def test_ceiling_wins_when_smaller():
    assert StackLimits(1 << 30, 1 << 25, 928).limit == 1 << 25


def test_pow2():
    assert [largest_pow2_at_most(n) for n in (1, 2, 3, 1023, 1024, 0)] == [1, 2, 2, 512, 1024, 0]
