"""Channels: runtime.hchan decoded (runtime/chan.go): length, capacity, closed, element
type, the buffer's slots oldest first, and the sudogs of its receive and send queues."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cached_property

from godbg.errors import CorruptError
from godbg.program.target import Target
from godbg.runtime.layouts import layout
from godbg.runtime.sudog import Sudog, follow_sudogs
from godbg.runtime.typenames import type_name

HCHAN = "runtime.hchan"
# A buffer larger than this is not a channel's (make(chan T, n) limits n*size to maxAlloc).
MAX_CHAN_BUFFER = 1 << 40
RECV = "recv"
SEND = "send"


@dataclass(frozen=True)
class Hchan:
    addr: int
    qcount: int
    dataqsiz: int
    buf: int
    elemsize: int
    closed: bool
    elemtype: int  # the runtime type's address
    elem_type_name: str | None
    sendx: int
    recvx: int
    recvq: tuple[Sudog, ...]
    sendq: tuple[Sudog, ...]

    def slot_addresses(self) -> list[int]:
        """Addresses of the buffered elements, oldest first (the ring from recvx)."""
        if not self.dataqsiz or not self.elemsize:
            return []
        return [self.buf + ((self.recvx + i) % self.dataqsiz) * self.elemsize for i in range(self.qcount)]

    @cached_property
    def _queues(self) -> tuple[frozenset[int], frozenset[int]]:
        return frozenset(s.addr for s in self.recvq), frozenset(s.addr for s in self.sendq)

    def direction_of(self, sudog_addr: int) -> str | None:
        """"recv" or "send": which of this channel's queues holds the sudog."""
        recv, send = self._queues
        if sudog_addr in recv:
            return RECV
        if sudog_addr in send:
            return SEND
        return None


def read_hchan(target: Target, addr: int) -> Hchan:
    """The channel whose hchan is at ``addr``, memoized per stop."""
    key = ("hchan", addr)
    found = target.cache.get(key)
    if found is not None:
        return found  # type: ignore[no-any-return]
    lay = layout(target, HCHAN)
    raw = target.memory.read(addr, lay.size)

    def word(path: str) -> int:
        return int(struct.unpack_from("<Q", raw, lay.off(path))[0])

    qcount, dataqsiz = word("qcount"), word("dataqsiz")
    elemsize = int.from_bytes(raw[lay.off("elemsize"):lay.off("elemsize") + 2], "little")
    closed = int.from_bytes(raw[lay.off("closed"):lay.off("closed") + 4], "little")
    sendx, recvx = word("sendx"), word("recvx")
    if qcount > dataqsiz or dataqsiz * max(elemsize, 1) > MAX_CHAN_BUFFER or (dataqsiz and recvx >= dataqsiz):
        raise CorruptError(f"{addr:#x} is not a channel (len {qcount}, cap {dataqsiz}, recvx {recvx})")
    elemtype = word("elemtype")
    found = Hchan(addr, qcount, dataqsiz, word("buf"), elemsize, bool(closed), elemtype,
                  type_name(target, elemtype), sendx, recvx,
                  tuple(follow_sudogs(target, word("recvq.first"), "next")),
                  tuple(follow_sudogs(target, word("sendq.first"), "next")))
    target.cache[key] = found
    return found
