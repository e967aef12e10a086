"""A client for headless delve: start ``dlv --headless`` on a free local port, speak its
JSON-RPC API v2 (JSON-RPC 1.0 framing over TCP, one JSON object a line), and stop it
again so that no dlv process outlives godbg.

Facts from delve v1.27.1 (service/rpc2/server.go, service/api/types.go):
- ``RPCServer.ExamineMemory`` refuses more than 1<<16 bytes a call
  (``ExamineMemoryLengthLimit``) and fails the whole call when any byte is unreadable;
  ``Mem`` comes back base64-encoded (a Go ``[]byte``).
- ``RPCServer.ListRegisters{ThreadID}`` returns ``Regs``: ``{Name, Value, DwarfNumber}``
  with capitalised names (``Rip``, ``X29``) and values as text (``0x00000000004a0f21``,
  ``Rflags`` followed by a flag list).
- The ``API server listening at: HOST:PORT`` line comes before the debugger is created,
  so a refused binary shows up as an exit with a one-line reason on stderr after it.
- ``Detach{Kill}`` ends a headless server even with ``--accept-multiclient``.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, BinaryIO

from godbg.errors import TargetError

EXAMINE_MEMORY_LIMIT = 1 << 16
# ExamineMemory calls written before their replies are read (see call_many).
PIPELINE_DEPTH = 8
DLV_ENV = "GODBG_DLV"
CACHED_DLV = os.path.join(os.path.expanduser("~"), ".cache", "godbg", "bin", "dlv")
INSTALL_HINT = "install it with `go install github.com/go-delve/delve/cmd/dlv@v1.27.1` or set $GODBG_DLV"
_LISTENING = re.compile(rb"API server listening at: \[?([0-9A-Za-z.:]+?)\]?:(\d+)\r?\n")
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 5.0
# Flags every headless server gets: a free port on loopback only, more than one client
# (the pass-through terminal client connects too), and no refusal of Go releases newer
# or older than this delve knows.
HEADLESS_FLAGS = ("--headless", "--api-version=2", "--accept-multiclient", "--listen=127.0.0.1:0",
                  "--check-go-version=false")

TELEMETRY_CHILD, TELEMETRY_CHILD_NONE = "GO_TELEMETRY_CHILD", "2"

# Every server still running, stopped at interpreter exit whatever happened before.
_LIVE: set[DelveServer] = set()


class DelveError(TargetError):
    """delve answered a call with an error."""


def find_dlv() -> str:
    """$GODBG_DLV, then dlv on PATH, then the copy scripts/setup.sh installs."""
    env = os.environ.get(DLV_ENV)
    if env:
        if os.path.isfile(env) and os.access(env, os.X_OK):
            return env
        raise TargetError(f"${DLV_ENV} is {env!r}, which is not an executable file")
    found = shutil.which("dlv")
    if found:
        return found
    if os.path.isfile(CACHED_DLV) and os.access(CACHED_DLV, os.X_OK):
        return CACHED_DLV
    raise TargetError(f"delve (dlv) not found on PATH or in {os.path.dirname(CACHED_DLV)}: {INSTALL_HINT}")


class RpcConnection:
    """One JSON-RPC connection, one caller at a time (a lock). delve may answer its
    asynchronous methods (Command, State) out of order, so only synchronous ones are
    ever pipelined (call_many with ExamineMemory)."""

    def __init__(self, host: str, port: int, timeout: float = STARTUP_TIMEOUT) -> None:
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as e:
            raise TargetError(f"cannot connect to delve at {host}:{port}: {e.strerror or e}") from None
        # Calls that run the program (continue) block for as long as it runs.
        self.sock.settimeout(None)
        self._file = self.sock.makefile("rwb")
        self._lock = threading.Lock()
        self._next_id = 0
        self._unread = 0  # replies of calls interrupted (Ctrl-C) before they were read

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        return self.call_many(method, [params])[0]

    def call_many(self, method: str, params: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The same method with several arguments, pipelined: all requests are written
        before the first reply is read, which saves a round trip per call. The first
        error raises."""
        with self._lock:
            first = self._next_id + 1
            self._next_id += len(params)
            requests = b"".join(
                json.dumps({"method": f"RPCServer.{method}", "params": [p], "id": first + i}).encode() + b"\n"
                for i, p in enumerate(params)
            )
            lines: list[bytes] = []
            sent = False
            try:
                while self._unread:  # stale replies would be taken for this call's
                    self._file.readline()
                    self._unread -= 1
                self._file.write(requests)
                self._file.flush()
                sent = True
                while len(lines) < len(params):
                    lines.append(self._file.readline())
            except OSError as e:
                raise TargetError(f"lost the connection to delve: {e.strerror or e}") from None
            finally:
                if sent:
                    self._unread += len(params) - len(lines)
        results = []
        for line in lines:
            if not line:
                raise TargetError("delve closed the connection")
            reply = json.loads(line)
            if reply.get("error"):
                raise DelveError(str(reply["error"]))
            results.append(reply.get("result") or {})
        return results

    def close(self) -> None:
        for closer in (self._file.close, self.sock.close):
            try:
                closer()
            except OSError:
                pass


class DelveServer:
    """A headless dlv process and our connection to it. Use as a context manager or call
    ``stop()``; an atexit hook stops whatever is left."""

    def __init__(self, kind: str, args: list[str], *, kill_on_stop: bool,
                 forward: tuple[BinaryIO, BinaryIO] | None = None, cwd: str | None = None) -> None:
        """``kind`` is core, exec or attach; ``forward`` receives dlv's (and so the
        debugged program's) stdout and stderr once the server is up; without it that
        output is kept only for error messages."""
        self.kind = kind
        self.kill_on_stop = kill_on_stop
        self.dlv = find_dlv()
        self._tail: deque[bytes] = deque(maxlen=20)  # last stderr lines, for error messages
        self._forward = forward
        self._port_found = threading.Event()
        self.address: tuple[str, int] | None = None
        started = time.monotonic()
        env = dict(os.environ)
        if kind != "exec":
            # No telemetry sidecar process (golang.org/x/telemetry re-executes dlv) where
            # no program inherits dlv's environment; an exec'd program keeps its own.
            env[TELEMETRY_CHILD] = TELEMETRY_CHILD_NONE
        try:
            # A session of its own: Ctrl-C at godbg's prompt must not reach dlv, and a dlv
            # without a controlling terminal never hands the terminal to the program.
            self.proc = subprocess.Popen(
                [self.dlv, *HEADLESS_FLAGS, kind, *args],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True, cwd=cwd, env=env, preexec_fn=die_with_parent,
            )
        except OSError as e:
            raise TargetError(f"cannot run {self.dlv}: {e.strerror}") from None
        _LIVE.add(self)
        self.rpc: RpcConnection | None = None
        self.pid: int | None = None  # the debugged process (0 for a core)
        try:
            self._readers()
            self._wait_listening()
            assert self.address is not None
            self.rpc = RpcConnection(*self.address)
            self.pid = int(self._first_call("ProcessPid").get("Pid", 0))
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started

    # --- startup ---------------------------------------------------------------------

    def _readers(self) -> None:
        assert self.proc.stdout is not None and self.proc.stderr is not None
        threading.Thread(target=self._read_stdout, args=(self.proc.stdout,), daemon=True).start()
        threading.Thread(target=self._read_stderr, args=(self.proc.stderr,), daemon=True).start()

    def _read_stdout(self, pipe: BinaryIO) -> None:
        pending = b""
        fd = pipe.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            if not self._port_found.is_set():
                pending += chunk
                m = _LISTENING.search(pending)
                if m is None:
                    continue
                self.address = (m.group(1).decode(), int(m.group(2)))
                chunk = pending[m.end():]
                self._port_found.set()
            if chunk:
                self._emit(0, chunk)

    def _read_stderr(self, pipe: BinaryIO) -> None:
        fd = pipe.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self._tail.extend(chunk.splitlines())
            if self._port_found.is_set() and self.rpc is not None:
                self._emit(1, chunk)

    def _emit(self, which: int, chunk: bytes) -> None:
        if self._forward is None:
            return
        out = self._forward[which]
        try:
            out.write(chunk)
            out.flush()
        except (OSError, ValueError):
            pass

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._port_found.wait(0.02):
            if self.proc.poll() is not None:
                time.sleep(0.05)  # let the stderr reader catch the reason
                raise TargetError(self._refusal())
            if time.monotonic() > deadline:
                raise TargetError(f"delve did not start within {STARTUP_TIMEOUT:.0f}s")

    def _first_call(self, method: str) -> dict[str, Any]:
        """The first call waits while delve loads the binary; a refused binary ends dlv
        and the connection with it."""
        assert self.rpc is not None
        try:
            return self.rpc.call(method)
        except TargetError:
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise
            time.sleep(0.05)
            raise TargetError(self._refusal()) from None

    def _refusal(self) -> str:
        lines = [ln.decode("utf-8", "replace").strip() for ln in self._tail]
        lines = [ln for ln in lines if ln and not ln.startswith("API server listening")]
        reason = lines[-1] if lines else f"exit status {self.proc.returncode}"
        return f"delve {self.kind} failed: {reason}"

    # --- calls -----------------------------------------------------------------------

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        if self.rpc is None:
            raise TargetError("delve is not running")
        return self.rpc.call(method, **params)

    def examine_memory(self, address: int, size: int) -> bytes:
        """``size`` bytes, all readable, or DelveError: calls of at most
        EXAMINE_MEMORY_LIMIT bytes, a few in flight at a time."""
        if self.rpc is None:
            raise TargetError("delve is not running")
        chunks = [(pos, min(EXAMINE_MEMORY_LIMIT, address + size - pos))
                  for pos in range(address, address + size, EXAMINE_MEMORY_LIMIT)]
        out = []
        for i in range(0, len(chunks), PIPELINE_DEPTH):
            batch = chunks[i : i + PIPELINE_DEPTH]
            results = self.rpc.call_many("ExamineMemory", [{"Address": a, "Length": n} for a, n in batch])
            for (a, n), result in zip(batch, results):
                data = base64.b64decode(result.get("Mem") or b"")
                if len(data) != n:
                    raise DelveError(f"short read at {a:#x}: {len(data)} of {n} bytes")
                out.append(data)
        return b"".join(out)

    def state(self, nonblocking: bool = False) -> dict[str, Any]:
        return self.call("State", NonBlocking=nonblocking).get("State") or {}

    def halt(self) -> None:
        self.call("Command", name="halt")

    @property
    def listen_address(self) -> str:
        assert self.address is not None
        host, port = self.address
        return f"{host}:{port}"

    # --- shutdown --------------------------------------------------------------------

    def stop(self) -> None:
        """Detach (killing a program delve started, never one we attached to) and make
        sure dlv is gone. Safe to call more than once."""
        _LIVE.discard(self)
        if self.rpc is not None and self.proc.poll() is None:
            try:
                _with_timeout(lambda: self.call("Detach", Kill=self.kill_on_stop), STOP_TIMEOUT)
            except Exception:  # detaching is best effort: dlv is killed below anyway
                pass
            self.rpc.close()
        self.rpc = None
        try:
            self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._kill()
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass

    def _kill(self) -> None:
        # dlv leads its own process group (start_new_session); a program it launched
        # has a group of its own (delve sets Setpgid), so end that one by pid too.
        targets = [self.proc.pid]
        if self.kill_on_stop and self.pid:
            targets.append(self.pid)
        for pid in targets:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        try:
            self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass

    def __enter__(self) -> DelveServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a child before exec: SIGTERM when godbg dies, even by SIGKILL. A headless dlv
    takes SIGTERM as "stop": it kills a program it started and detaches from one it
    attached to. Without this a killed godbg would leave a multiclient dlv behind."""
    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return  # not Linux: atexit and the signal handlers still stop dlv
    if os.getppid() != parent:  # godbg died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _with_timeout(fn: Callable[[], object], seconds: float) -> None:
    """Run ``fn`` in a thread and stop waiting for it after ``seconds``: a wedged dlv must
    not keep godbg from exiting (it is killed afterwards)."""
    done = threading.Event()
    errors: list[BaseException] = []

    def body() -> None:
        try:
            fn()
        except BaseException as e:  # reported to the caller below
            errors.append(e)
        finally:
            done.set()

    threading.Thread(target=body, daemon=True).start()
    if not done.wait(seconds):
        raise TimeoutError(f"delve did not answer within {seconds:.0f}s")
    if errors:
        raise errors[0]


@atexit.register
def _stop_all() -> None:
    for server in list(_LIVE):
        server.stop()
