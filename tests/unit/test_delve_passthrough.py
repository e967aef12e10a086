"""The pass-through terminal client without delve: a fake `dlv connect` that behaves
like delve's terminal on pipes (prompt after each command, `config prompt` with `$f`,
frames, a yes/no question, a prompt written in pieces)."""

from __future__ import annotations

import sys
import textwrap

import pytest

from godbg.backends.delve.passthrough import PROMPT_SETTING, DelveTerminal, _holdback
from godbg.errors import TargetError

FAKE_CONNECT = textwrap.dedent(
    r'''
    import sys, time
    out = sys.stdout
    prompt = "(dlv) "
    frame = 0
    out.write("Type 'help' for list of commands.\n")
    while True:
        out.write(prompt.replace("$f", str(frame))); out.flush()
        line = sys.stdin.readline()
        if not line:
            out.write("exit\n"); break
        cmd = line.strip()
        if cmd.startswith("config prompt "):
            prompt = cmd[len("config prompt "):].strip('"')
        elif cmd.startswith("frame "):
            frame = int(cmd.split()[1])
            out.write("Frame %d: main.go:12\n" % frame)
        elif cmd == "slow":
            out.write("part one\n"); out.flush(); time.sleep(0.2)
            out.write("part two, then a prompt in pieces\n")
            p = prompt.replace("$f", str(frame)).encode()
            sys.stdout.flush()
            sys.stdout.buffer.write(p[:2]); sys.stdout.buffer.flush(); time.sleep(0.2)
            sys.stdout.buffer.write(p[2:]); sys.stdout.buffer.flush()
            line = sys.stdin.readline()
            frame = frame  # the command after `slow` is read by the loop below
            if not line:
                break
            out.write("after slow: " + line)
        elif cmd == "ask":
            out.write("Would you like to kill the process? [Y/n] "); out.flush()
            out.write("answered " + sys.stdin.readline())
        elif cmd == "die":
            sys.exit(3)
        else:
            sys.stderr.write("Command failed: command not available\n"); sys.stderr.flush()
    '''
)


@pytest.fixture
def terminal(tmp_path):
    path = tmp_path / "dlv"
    path.write_text(f"#!{sys.executable}\n{FAKE_CONNECT}")
    path.chmod(0o755)
    term = DelveTerminal(str(path), "127.0.0.1:1")
    yield term
    term.close()
    assert term.proc.poll() is not None


def run(term: DelveTerminal, line: str, **kw) -> str:
    out: list[bytes] = []
    term.run(line, out.append, **kw)
    return b"".join(out).decode()


def test_prompt_setting_holds_frame_escape():
    assert "$f" in PROMPT_SETTING and "\x1b" not in PROMPT_SETTING


def test_output_and_frame(terminal):
    assert run(terminal, "frame 2") == "Frame 2: main.go:12\n"
    assert terminal.frame == 2
    assert run(terminal, "bogus") == "Command failed: command not available\n"  # stderr, in order


def test_prompt_split_across_reads(terminal):
    assert run(terminal, "slow") == "part one\npart two, then a prompt in pieces\n"
    assert run(terminal, "next") == "after slow: next\n"


def test_question_is_put_to_the_user(terminal):
    asked = []

    def answer(q: str) -> str:
        asked.append(q)
        return "n"

    text = run(terminal, "ask", answer=answer)
    assert asked == [""]
    assert text == "Would you like to kill the process? [Y/n] answered n\n"


def test_client_death_is_a_target_error(terminal):
    with pytest.raises(TargetError, match="ended"):
        run(terminal, "die")


def test_holdback():
    assert _holdback(b"plain text\n") == -1
    assert _holdback(b"text \xe2\x9f") == 5
    assert _holdback("text \u27e6godbg".encode()) == 5
