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
from typing import BinaryIO

from godbg.errors import TargetError

# ASCII record separators cannot appear in delve's own output; `$f` is the frame.
PROMPT_SETTING = 'config prompt "\\x1egodbg-dlv:$f\\x1e"'
_PROMPT = re.compile(rb"\x1egodbg-dlv:(-?\d+)\x1e")
_PROMPT_MAX = 32  # longest a prompt can be: how much output to hold back
# A question delve asks (restart, kill?): output that stops without a prompt, ending so.
_QUESTION = re.compile(rb"(\?|\[[A-Za-z/]+\]|:)\s*$")
QUESTION_WAIT = 0.5
START_TIMEOUT = 30.0


class DelveTerminal:
    def __init__(self, dlv: str, address: str) -> None:
        env = dict(os.environ, TERM="dumb", DELVE_PAGER="cat")
        try:
            # Its own session: Ctrl-C is godbg's to turn into a halt, not this client's
            # (which would ask "[p]ause or [q]uit" on its stdin).
            self.proc = subprocess.Popen(
                [dlv, "connect", address], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, start_new_session=True, env=env,
            )
        except OSError as e:
            raise TargetError(f"cannot run {dlv} connect: {e.strerror}") from None
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in: BinaryIO = self.proc.stdin
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
        try:
            self._in.write(line.encode() + b"\n")
            self._in.flush()
        except OSError:
            raise TargetError("delve's terminal client has ended") from None
        held = b""
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
                if answer is not None and held and _QUESTION.search(held):
                    write(held)
                    held = b""
                    reply = answer("")
                    self._in.write(reply.encode() + b"\n")
                    self._in.flush()
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
            # Keep back what might be the start of a prompt split across reads.
            cut = max(0, len(held) - _PROMPT_MAX)
            nl = held.rfind(b"\n", 0, len(held)) + 1
            keep_from = max(cut, nl) if b"\x1e" not in held[cut:] else min(cut, held.find(b"\x1e", cut))
            if keep_from > 0:
                write(held[:keep_from])
                held = held[keep_from:]

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


def _discard(_data: bytes) -> None:
    pass


def to_stdout(data: bytes) -> None:
    if data:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
