"""gdb's own `bt`, `frame N` and `info args` on any goroutine after `go goroutine N`, on
core files (where runtime-gdb.py's `goroutine N bt` fails because it writes $pc/$sp):
compared frame by frame with Go's own crash traceback."""

from __future__ import annotations

import re

import pytest

from tests.integration import matrix
from tests.integration.gdbrun import gdb_batch

pytestmark = pytest.mark.gdb

# "#3  0x0000000000417212 in runtime.chanrecv1 (c=…) at /…/chan.go:509"
BT_LINE = re.compile(r"^#(\d+)\s+(?:0x([0-9a-f]+) in )?(\S+) \(.*\) at (\S+):(\d+)$")


def parse_bt(text: str) -> list[tuple[int, int | None, str, str, int]]:
    out = []
    for line in text.splitlines():
        m = BT_LINE.match(line.strip())
        if m:
            out.append((int(m.group(1)), int(m.group(2), 16) if m.group(2) else None, m.group(3),
                        m.group(4), int(m.group(5))))
    return out


@pytest.mark.pie("ends")
@pytest.mark.parametrize("program", ["headroom"])
def test_gdb_bt_of_parked_goroutines(build, core_kind, program):
    fx = matrix.crash(program, build, core_kind=core_kind)
    goids = [r["goid"] for r in fx.truth["goroutines"]]
    cmds = []
    for goid in goids:
        cmds += [f"go goroutine {goid}", "bt 12", "go goroutine none"]
    res = gdb_batch(cmds, str(fx.binary), str(fx.core))
    for i, goid in enumerate(goids):
        assert f"goroutine {goid} selected" in res.outputs[3 * i], res.stderr[-2000:]
        frames = parse_bt(res.outputs[3 * i + 1])
        assert frames, res.outputs[3 * i + 1] + res.stderr[-2000:]
        go_frames = fx.traceback.goroutine(goid).frames
        physical = [f for f in go_frames if f.pc is not None]
        ours = [f for f in frames if f[0] >= 1]
        # gdb shows inlined calls as frames too (without a pc): compare the physical ones
        ours_phys = [f for f in ours if f[1] is not None]
        n = min(len(ours_phys), len(physical), 10)
        assert n >= 3
        for (_lvl, pc, func, file, line), want in zip(ours_phys[:n], physical[:n]):
            assert (func, pc, file, line) == (want.function.split("(")[0], want.pc, want.file, want.line)


@pytest.mark.core_kinds("kernel")
def test_frame_and_args_on_goroutine(build, core_kind):
    fx = matrix.crash("headroom", build, core_kind=core_kind)
    rec = next(r for r in fx.truth["goroutines"] if r["recurse_frames"] == 11)
    res = gdb_batch([f"go goroutine {rec['goid']}", "bt", "go goroutine none", "bt 1"],
                    str(fx.binary), str(fx.core))
    frames = parse_bt(res.outputs[1])
    assert sum(1 for f in frames if f[2] == "main.recurse") == rec["recurse_frames"]
    # back to the thread's own frames
    assert parse_bt(res.outputs[3])[0][2] != "runtime.gopark"


@pytest.mark.pie("ends")
def test_gdb_bt_of_goroutines_live(build, tmp_path):
    """Live: the program stopped by gdb at its fatal SIGABRT, after Go printed its own
    traceback of every goroutine (which this run's frames are compared with). Goroutine
    ids differ from run to run, so gdb reads this run's truth file to pick them."""
    import json

    from tests.integration import traceback as go_traceback

    binary = matrix.build_program("headroom", build)
    env = matrix.program_env(tmp_path)
    script = tmp_path / "each.py"
    script.write_text(
        "import json\n"
        f"truth = json.load(open({str(tmp_path / 'truth.json')!r}))\n"
        "out = {}\n"
        "for rec in truth['goroutines']:\n"
        "    gdb.execute(f\"go goroutine {rec['goid']}\", to_string=True)\n"
        "    out[rec['goid']] = gdb.execute('bt 12', to_string=True)\n"
        "    gdb.execute('go goroutine none')\n"
        "print(json.dumps(out))\n")
    res = gdb_batch([f"source {script}"], str(binary), before=["run"], env=env, cwd=str(tmp_path))
    bts = json.loads(res.outputs[0].splitlines()[-1])
    both = res.stdout + res.stderr
    tb = go_traceback.parse(both[both.index("panic: "):])
    assert len(bts) == 4
    for goid, text in bts.items():
        ours = [f for f in parse_bt(text) if f[0] >= 1 and f[1] is not None]
        physical = [f for f in tb.goroutine(int(goid)).frames if f.pc is not None]
        n = min(len(ours), len(physical), 10)
        assert n >= 3, text
        for (_lvl, pc, func, file, line), want in zip(ours[:n], physical[:n]):
            assert (func, pc, file, line) == (want.function.split("(")[0], want.pc, want.file, want.line)


@pytest.mark.builds(lambda b: not b.goexperiment)
@pytest.mark.pie("ends")
def test_go_goroutines_and_bt_live_match_go(build, tmp_path, monkeypatch):
    """`go goroutines` and `go bt N` in gdb on the live goroutines program, stopped at its
    fatal SIGABRT after Go printed its traceback: the same checks as on cores, against
    the traceback of this very run."""
    import json

    from tests.integration import test_goroutines as tg
    from tests.integration import traceback as go_traceback

    binary = matrix.build_program("goroutines", build)
    out = tmp_path / "answers.json"
    script = tmp_path / "ask.py"
    script.write_text(
        "import json\n"
        "answers = {}\n"
        "doc = json.loads(gdb.execute('go goroutines --json', to_string=True))\n"
        "answers['goroutines'] = doc\n"
        "for g in doc['goroutines']:\n"
        "    answers[f\"bt {g['id']}\"] = json.loads(gdb.execute(f\"go bt {g['id']} --json\", to_string=True))\n"
        f"json.dump(answers, open({str(out)!r}, 'w'))\n")
    res = gdb_batch([f"source {script}"], str(binary), before=["run"], env=matrix.program_env(tmp_path),
                    cwd=str(tmp_path), args=["panic"])
    answers = json.loads(out.read_text())
    both = res.stdout + res.stderr
    tb = go_traceback.parse(both[both.index("panic: "):])

    class Live:
        traceback = tb

    monkeypatch.setattr(tg, "run_json", lambda _fx, *argv: answers[" ".join(argv)])
    tg.check_goroutines(Live())
    tg.check_backtraces(Live(), "panic")


RUNAWAY_FRAME = "0x0000000000000000 in ??"


@pytest.mark.core_kinds("kernel")
def test_gdb_bt_of_goroutine_interrupted_on_its_thread(build, core_kind):
    """A goroutine running on a thread when the crash came (SIGQUIT mode: spin, on the
    thread the signal went to): its pc is the interrupted instruction, not a return
    address, and gdb's `bt` names it as Go does (gdb alone looks it up at pc−1 and can
    land in an inlined call or on the line before). No bt ends in a pc-0 frame."""
    fx = matrix.crash("goroutines", build, args=["signal"], core_kind=core_kind)
    running = [g for g in fx.traceback.goroutines if g.status == "running" and g.frames and g.frames[0].pc]
    assert running, "Go's traceback shows no running goroutine with frames"
    goids = sorted({g.id for g in running}) + [1]
    cmds = []
    for goid in goids:
        cmds += [f"go goroutine {goid}", "bt 12", "go goroutine none"]
    res = gdb_batch(cmds, str(fx.binary), str(fx.core))
    for i, goid in enumerate(goids):
        text = res.outputs[3 * i + 1]
        assert RUNAWAY_FRAME not in text, text
        if goid not in {g.id for g in running}:
            continue
        frames = [f for f in parse_bt(text) if f[0] >= 1]
        assert frames, text + res.stderr[-2000:]
        want = fx.traceback.goroutine(goid).frames[0]
        _lvl, pc, func, file, line = frames[0]
        assert (func, pc, file, line) == (want.function.split("(")[0], want.pc, want.file, want.line), text


@pytest.mark.core_kinds("kernel")
@pytest.mark.builds(lambda b: b.at_least("1.26") and not b.goexperiment)
def test_dead_selects_deadextra(build, core_kind, tmp_path):
    """A program linked with runtime/cgo (here by the external linker) has an extra M
    whose goroutine is _Gdeadextra (Go 1.26+): `goroutines --status dead` lists it with
    the dead ones, as gdb reads allgs."""
    import json

    fx = matrix.crash("basic", build.variant(pie=True, external=True), core_kind=core_kind)
    script = tmp_path / "statuses.py"
    script.write_text(
        "allgs = gdb.parse_and_eval(\"'runtime.allgs'\")\n"
        "for i in range(int(allgs['len'])):\n"
        "    g = allgs['array'][i]\n"
        "    print('G', int(g['goid']), int(g['atomicstatus']['value']) & ~0x1000)\n")
    res = gdb_batch([f"source {script}", "go goroutines --status dead --json"], str(fx.binary), str(fx.core))
    statuses = dict(tuple(map(int, line.split()[1:])) for line in res.outputs[0].splitlines()
                    if line.startswith("G "))
    dead_extra = {goid for goid, st in statuses.items() if st == 11}
    assert dead_extra, f"gdb sees no _Gdeadextra goroutine: {statuses}"
    doc = json.loads(res.outputs[1])
    ours = {g["id"]: g["status"] for g in doc["goroutines"]}
    assert set(ours) == {goid for goid, st in statuses.items() if st in (6, 11)}
    assert {goid for goid, st in ours.items() if st == "deadextra"} == dead_extra


def test_go_command_reports_a_failed_load(tmp_path):
    """gdb's Python without godbg's dependencies: `go info` repeats why godbg did not
    load, in one line, instead of falling through to gdb's goto-bookmark."""
    import os
    import shutil
    import subprocess

    shutil.copytree(os.path.join(matrix.REPO, "godbg"), tmp_path / "godbg",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(os.path.join(matrix.REPO, "gdbinit.py"), tmp_path / "gdbinit.py")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TERM": "dumb"}
    p = subprocess.run(["gdb", "-nx", "-q", "-batch", "-ex", f"source {tmp_path / 'gdbinit.py'}",
                        "-ex", "go info", "-ex", "echo still-here\\n"],
                       capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    both = p.stdout + p.stderr
    assert "goto-bookmark" not in both and "bookmark" not in both, both
    lines = [ln for ln in p.stderr.splitlines() if ln.startswith("godbg")]
    assert len(lines) == 2 and lines[0] == lines[1] and "pyelftools" in lines[0], both
