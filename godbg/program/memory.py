"""The Memory protocol every backend provides, and the page cache on top of it.

The engine reads through ``Memory.read(addr, n) -> bytes`` only. Backends differ a lot
in what one call costs (a delve round trip vs. a slice of an mmap'd core), so the
cache reads whole pages and serves the small field reads decoders make from them.
"""

from __future__ import annotations

import itertools
import struct
from typing import Protocol

from godbg.errors import FaultError

PAGE = 4096
# A read larger than this goes straight to the backend (bucket arrays, allgs) and
# is cached as whole pages only when small enough to be worth it.
_MAX_CACHED_READ = 1 << 20
# Pages the cache holds at most (64 MiB); past it the oldest quarter is dropped. A heap
# scan of a million-goroutine core reads gigabytes once: keeping them all would cost
# the process that much memory, and re-reading a dropped page is one pread (or one
# debugger call on a live target).
MAX_CACHED_PAGES = 16384
# Sanity cap for any single read: decoders that compute sizes from corrupt memory
# must not ask for gigabytes.
MAX_READ = 1 << 30

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_I64 = struct.Struct("<q")


class RawMemory(Protocol):
    """What a backend implements: read exactly ``size`` bytes or raise FaultError."""

    def read(self, address: int, size: int) -> bytes: ...


class Memory:
    """Typed helpers over a raw reader. Little-endian, 64-bit pointers (amd64/arm64)."""

    ptr_size = 8

    def __init__(self, raw: RawMemory) -> None:
        self.raw = raw

    def read(self, address: int, size: int) -> bytes:
        if size < 0 or size > MAX_READ:
            raise FaultError(address, size, f"refusing a read of {size} bytes")
        if size == 0:
            return b""
        if address <= 0 or address + size > 1 << 64:
            raise FaultError(address, size)
        return self.raw.read(address, size)

    def u8(self, address: int) -> int:
        return self.read(address, 1)[0]

    def u16(self, address: int) -> int:
        value: int = _U16.unpack(self.read(address, 2))[0]
        return value

    def u32(self, address: int) -> int:
        value: int = _U32.unpack(self.read(address, 4))[0]
        return value

    def u64(self, address: int) -> int:
        value: int = _U64.unpack(self.read(address, 8))[0]
        return value

    def i64(self, address: int) -> int:
        value: int = _I64.unpack(self.read(address, 8))[0]
        return value

    def ptr(self, address: int) -> int:
        return self.u64(address)

    def gostring(self, address: int, limit: int = 1 << 20) -> str:
        """Decode a Go ``string`` header {data, len} at ``address``."""
        data, length = struct.unpack("<QQ", self.read(address, 16))
        return self.string_at(data, length, limit)

    def string_at(self, data: int, length: int, limit: int = 1 << 20) -> str:
        if length == 0:
            return ""
        if length < 0 or length > 1 << 40:
            raise FaultError(data, length, "implausible string length")
        raw = self.read(data, min(length, limit))
        return raw.decode("utf-8", errors="replace")

    def readable(self, address: int, size: int = 1) -> bool:
        try:
            self.read(address, size)
        except FaultError:
            return False
        return True


class CachedMemory(Memory):
    """Page cache over a backend. Cleared by the backend whenever the inferior may have
    changed (gdb stop/continue events, delve continue); a core never changes."""

    def __init__(self, raw: RawMemory) -> None:
        super().__init__(raw)
        self._pages: dict[int, bytes] = {}
        self._bad_pages: set[int] = set()

    def clear(self) -> None:
        self._pages.clear()
        self._bad_pages.clear()

    def read(self, address: int, size: int) -> bytes:
        if size < 0 or size > MAX_READ:
            raise FaultError(address, size, f"refusing a read of {size} bytes")
        if size == 0:
            return b""
        if address <= 0 or address + size > 1 << 64:
            raise FaultError(address, size)
        first = address & ~(PAGE - 1)
        last = (address + size - 1) & ~(PAGE - 1)
        if size > _MAX_CACHED_READ:
            return self.raw.read(address, size)
        try:
            if first == last:
                page = self._page(first)
                off = address - first
                return page[off : off + size]
            self._fill(first, last + PAGE)
            blob = b"".join(self._page(base) for base in range(first, last + PAGE, PAGE))
        except FaultError:
            # A page only partly mapped (a mapping that ends mid-page): the bytes asked
            # for may still be readable on their own.
            return self.raw.read(address, size)
        off = address - first
        return blob[off : off + size]

    def _fill(self, start: int, end: int) -> None:
        """Read the missing pages of [start, end) in as few backend calls as possible."""
        base = start
        while base < end:
            if base in self._pages or base in self._bad_pages:
                base += PAGE
                continue
            run_end = base
            while run_end < end and run_end not in self._pages and run_end not in self._bad_pages:
                run_end += PAGE
            try:
                blob = self.raw.read(base, run_end - base)
            except FaultError:
                # Fall back to page by page so the readable part of a partly mapped
                # range still gets cached; the bad page raises later, in _page.
                for b in range(base, run_end, PAGE):
                    self._page_or_none(b)
            else:
                for i, b in enumerate(range(base, run_end, PAGE)):
                    self._pages[b] = blob[i * PAGE : (i + 1) * PAGE]
            base = run_end
        self._bound()

    def _bound(self) -> None:
        if len(self._pages) > MAX_CACHED_PAGES:
            for old in list(itertools.islice(self._pages, MAX_CACHED_PAGES // 4)):
                del self._pages[old]

    def _page_or_none(self, base: int) -> bytes | None:
        try:
            return self._page(base)
        except FaultError:
            return None

    def _page(self, base: int) -> bytes:
        page = self._pages.get(base)
        if page is not None:
            return page
        if base in self._bad_pages:
            raise FaultError(base)
        try:
            page = self.raw.read(base, PAGE)
        except FaultError:
            self._bad_pages.add(base)
            raise
        self._pages[base] = page
        self._bound()
        return page
