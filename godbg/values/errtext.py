"""The text of an error value, read from memory without running its ``Error`` method,
for the error types whose method is simple and fixed (their sources in the comments):

- ``*errors.errorString`` (errors.New, context.Canceled): ``s``
- ``*fmt.wrapError`` / ``*fmt.wrapErrors`` (fmt.Errorf with %w): ``msg``
- ``*fs.PathError``: ``Op + " " + Path + ": " + Err.Error()``
- ``*os.SyscallError``: ``Syscall + ": " + Err.Error()``
- ``syscall.Errno``: the C library's message with its first letter lower-cased — how Go's
  zerrors tables were made (mkerrors.sh) — or ``"errno N"``
- ``context.deadlineExceededError``: ``"context deadline exceeded"``
- ``*net.OpError``: ``Op [Net] [Source->]Addr: Err`` for TCP/UDP addresses with an IPv4
  address (anything else: no text)

Anything else gets no text (never a guess)."""

from __future__ import annotations

import os
import struct
from typing import TYPE_CHECKING

from godbg.errors import FaultError, GodbgError

if TYPE_CHECKING:
    from godbg.program.dwarf import GoType
    from godbg.program.target import Target
    from godbg.values.hooks import TargetHooks

# Nested errors (Err fields) followed at most this deep.
MAX_NESTING = 8
# Bytes of one message read at most.
MAX_TEXT = 1 << 16
# syscall.Errno values with a message in Go's tables (linux: 1..133).
MAX_ERRNO = 133
_QQ = struct.Struct("<Qq")
_U64 = struct.Struct("<Q")


def error_text(target: Target, hooks: TargetHooks, type_addr: int, data: int, nesting: int = 0) -> str | None:
    if nesting > MAX_NESTING:
        return None
    dyn = hooks.dynamic_type(type_addr)
    if dyn is None:
        return None
    t, name, _direct = dyn
    try:
        return _text(target, hooks, t, str(name), data, nesting)
    except (GodbgError, FaultError, UnicodeDecodeError, struct.error):
        return None


def _text(target: Target, hooks: TargetHooks, t: GoType | None, name: str, data: int, nesting: int) -> str | None:
    if name == "context.deadlineExceededError":
        return "context deadline exceeded"
    if name == "syscall.Errno":
        return _errno(target.memory.u64(data))
    if t is None or not name.startswith("*") or t.elem is None or not data:
        return None
    st = t.elem
    r = _Reader(target, hooks, st, data, nesting)
    if name == "*errors.errorString":
        return r.string("s")
    if name in ("*fmt.wrapError", "*fmt.wrapErrors"):
        return r.string("msg")
    if name == "*fs.PathError":
        return _join(r.string("Op"), " ", r.string("Path"), ": ", r.error("Err"))
    if name == "*os.SyscallError":
        return _join(r.string("Syscall"), ": ", r.error("Err"))
    if name == "*net.OpError":
        return _op_error(r)
    return None


def _join(*parts: str | None) -> str | None:
    if any(p is None for p in parts):
        return None
    return "".join(p for p in parts if p is not None)


def _errno(n: int) -> str:
    if 0 < n <= MAX_ERRNO:
        msg = os.strerror(n)
        if msg and not msg.startswith("Unknown error"):
            return msg[0].lower() + msg[1:]
    return f"errno {n}"


class _Reader:
    """Fields of one struct in memory, by name."""

    def __init__(self, target: Target, hooks: TargetHooks, st: GoType, address: int, nesting: int) -> None:
        self.target = target
        self.hooks = hooks
        self.st = st
        self.address = address
        self.nesting = nesting

    def _off(self, name: str) -> int:
        f = self.st.field(name)
        if f is None:
            raise GodbgError(f"{self.st.name} has no field {name}")
        return self.address + f.offset

    def string(self, name: str) -> str:
        p, n = _QQ.unpack(self.target.memory.read(self._off(name), 16))
        if n < 0 or n > MAX_TEXT:
            raise GodbgError("bad string")
        return self.target.memory.read(p, n).decode("utf-8", errors="replace") if n else ""

    def words(self, name: str) -> tuple[int, int]:
        a, b = struct.unpack("<QQ", self.target.memory.read(self._off(name), 16))
        return a, b

    def error(self, name: str) -> str | None:
        tab, data = self.words(name)
        if not tab:
            return "<nil>"
        off = self.hooks.itab_type_offset()
        type_addr = self.target.memory.ptr(tab + (off if off is not None else 8))
        return error_text(self.target, self.hooks, type_addr, data, self.nesting + 1)

    def addr_string(self, name: str) -> str | None:
        """net.Addr.String() for *TCPAddr / *UDPAddr with an IPv4 address, else None."""
        tab, data = self.words(name)
        off = self.hooks.itab_type_offset()
        type_addr = self.target.memory.ptr(tab + (off if off is not None else 8))
        dyn = self.hooks.dynamic_type(type_addr)
        if dyn is None or dyn[0] is None or dyn[0].elem is None or not data:
            return None
        if str(dyn[1]) not in ("*net.TCPAddr", "*net.UDPAddr"):
            return None
        r = _Reader(self.target, self.hooks, dyn[0].elem, data, self.nesting)
        ip_ptr, ip_len = _QQ.unpack(self.target.memory.read(r._off("IP"), 16))
        port = self.target.memory.i64(r._off("Port"))
        if r.string("Zone"):
            return None
        ip = self.target.memory.read(ip_ptr, ip_len) if ip_len in (4, 16) else b""
        if len(ip) == 16 and ip[:12] == b"\0" * 10 + b"\xff\xff":
            ip = ip[12:]
        if len(ip) != 4:
            return None
        return ".".join(str(b) for b in ip) + ":" + str(port)


def _op_error(r: _Reader) -> str | None:
    # net.OpError.Error (net/net.go).
    s = r.string("Op")
    net = r.string("Net")
    if net:
        s += " " + net
    src_tab, _ = r.words("Source")
    addr_tab, _ = r.words("Addr")
    if src_tab:
        src = r.addr_string("Source")
        if src is None:
            return None
        s += " " + src
    if addr_tab:
        addr = r.addr_string("Addr")
        if addr is None:
            return None
        s += ("->" if src_tab else " ") + addr
    err = r.error("Err")
    if err is None:
        return None
    return s + ": " + err
