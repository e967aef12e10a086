"""delve's own terminal client, connected to the same headless server, for every command
godbg does not handle: ``dlv connect HOST:PORT`` over pipes.

Why a second client and not our own versions of delve's commands: every delve command
(break, continue, next, print, list, stack, goroutine, frame, config, …) then works and
prints exactly what delve prints, and godbg parses none of it. The one thing godbg needs
back is where the command ended: the client's prompt is set to a sentinel holding
delve's ``$f`` prompt escape, so each prompt also reports the selected frame (which
delve keeps in the client), used to resolve locals for ``map NAME``.

With stdin and stdout not terminals, delve's line editor reads plain lines and prints
no colour; stderr is merged so error lines arrive in order with the rest.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import IO

from godbg.backends.delve.client import TELEMETRY_CHILD, TELEMETRY_CHILD_NONE, die_with_parent
from godbg.errors import TargetError

# Brackets delve never prints around a marker no command prints (delve's line editor
# refuses control characters in a prompt); `$f` is the selected frame.
_OPEN, _CLOSE = "\u27e6", "\u27e7"
PROMPT_SETTING = f'config prompt "{_OPEN}godbg-dlv:$f{_CLOSE}"'
_OPEN_B = _OPEN.encode()
_PROMPT = re.compile(_OPEN_B + rb"godbg-dlv:(-?\d+)" + _CLOSE.encode())
# A question delve asks ("[Y/n] ", "[p/q]? "): output that stops, without a newline
# or a prompt, on a question mark or a bracketed choice.
_QUESTION = re.compile(rb"(\?|\[[A-Za-z/]+\]) ?$")
QUESTION_WAIT = 0.5
START_TIMEOUT = 30.0


class DelveTerminal:
    def __init__(self, dlv: str, address: str) -> None:
        env = dict(os.environ, TERM="dumb", DELVE_PAGER="cat", **{TELEMETRY_CHILD: TELEMETRY_CHILD_NONE})
        try:
            # Its own session: Ctrl-C is godbg's to turn into a halt, not this client's
            # (which would ask "[p]ause or [q]uit" on its stdin).
            self.proc = subprocess.Popen(
                [dlv, "connect", address], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, start_new_session=True, env=env,
                preexec_fn=die_with_parent,
            )
        except OSError as e:
            raise TargetError(f"cannot run {dlv} connect: {e.strerror}") from None
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in: IO[bytes] = self.proc.stdin
        self._out_fd = self.proc.stdout.fileno()
        self.frame = 0
        try:
            self.run(PROMPT_SETTING, _discard, timeout=START_TIMEOUT)
        except BaseException:
            self.close()
            raise

    def run(self, line: str, write: Callable[[bytes], None], *,
            on_interrupt: Callable[[], None] | None = None,
            answer: Callable[[str], str] | None = None,
            timeout: float | None = None) -> None:
        """Send one command line and copy delve's output to ``write`` until its prompt
        comes back. Ctrl-C calls ``on_interrupt`` (a halt) and keeps waiting; a question
        delve asks is put to ``answer``."""
        if self.proc.poll() is not None:
            raise TargetError("delve's terminal client has ended")
        self._send(line)
        held = b""  # from the prompt's first byte on: maybe a prompt, not yet complete
        tail = b""  # the last output, to recognise a question
        waited = 0.0
        while True:
            try:
                ready, _, _ = select.select([self._out_fd], [], [], QUESTION_WAIT)
            except KeyboardInterrupt:
                if on_interrupt is None:
                    raise
                on_interrupt()
                continue
            if not ready:
                waited += QUESTION_WAIT
                if timeout is not None and waited >= timeout:
                    raise TargetError("delve's terminal client did not answer")
                if answer is not None and not held and _QUESTION.search(tail):
                    tail = b""
                    self._send(answer(""))
                continue
            waited = 0.0
            chunk = os.read(self._out_fd, 65536)
            if not chunk:
                write(held)
                raise TargetError("delve's terminal client has ended")
            held += chunk
            m = _PROMPT.search(held)
            if m is not None:
                write(held[: m.start()])
                self.frame = int(m.group(1))
                return
            start = _holdback(held)
            out, held = (held, b"") if start < 0 else (held[:start], held[start:])
            if out:
                write(out)
                tail = (tail + out)[-200:]

    def _send(self, line: str) -> None:
        try:
            self._in.write(line.encode() + b"\n")
            self._in.flush()
        except OSError:
            raise TargetError("delve's terminal client has ended") from None

    def close(self) -> None:
        """End the client. Closing its stdin makes it exit, and (not being a terminal)
        it cannot ask whether to kill the server; the server is stopped by its owner."""
        if self.proc.poll() is None:
            try:
                self._in.close()
            except OSError:
                pass
            try:
                self.proc.wait(2)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except OSError:
                    pass
                self.proc.wait(5)
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass


def _holdback(data: bytes) -> int:
    """Where the part of ``data`` that may begin a prompt starts, or -1."""
    start = data.rfind(_OPEN_B)
    if start >= 0:
        return start
    for n in range(len(_OPEN_B) - 1, 0, -1):  # a prompt's first bytes at the very end
        if data.endswith(_OPEN_B[:n]):
            return len(data) - n
    return -1


def _discard(_data: bytes) -> None:
    pass


def to_stdout(data: bytes) -> None:
    if data:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
