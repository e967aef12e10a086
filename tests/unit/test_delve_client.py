"""The delve client without delve: a fake `dlv` (a Python script speaking the same
JSON-RPC framing) checks startup, the port handshake, refusals, chunked and pipelined
memory reads, register parsing, and that every way out leaves no process behind."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from godbg.backends.delve import client as dlvclient
from godbg.backends.delve.client import EXAMINE_MEMORY_LIMIT, DelveServer, find_dlv
from godbg.backends.delve.dlvtarget import DelveMemory, DelveThreads, LocalResolver, parse_registers
from godbg.errors import FaultError, TargetError
from godbg.program.memory import CachedMemory

BASE = 0x10000
SIZE = 3 * EXAMINE_MEMORY_LIMIT + 5 * 4096  # whole pages, as real mappings are

FAKE_DLV = textwrap.dedent(
    r'''
    import base64, json, os, socket, sys, time
    mode = os.environ.get("FAKE_DLV_MODE", "ok")
    log = os.environ.get("FAKE_DLV_LOG")
    if log:
        with open(log, "a") as f:
            f.write(json.dumps({"pid": os.getpid(), "argv": sys.argv[1:]}) + "\n")
    if mode == "silent-exit":
        print("could not open core: bad core", file=sys.stderr); sys.exit(1)
    srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
    print("API server listening at: 127.0.0.1:%d" % srv.getsockname()[1], flush=True)
    if mode == "refuse":
        time.sleep(0.1)
        print("could not launch process: not an executable file", file=sys.stderr, flush=True)
        sys.exit(1)
    image = bytes(i % 251 for i in range(SIZE))
    regs = [{"Name": "Rip", "Value": "0x0000000000401000", "DwarfNumber": 16},
            {"Name": "Rsp", "Value": "0x000000c000012345", "DwarfNumber": 7},
            {"Name": "Rflags", "Value": "0x0000000000000246\t[PF ZF IF IOPL=0]", "DwarfNumber": 49},
            {"Name": "XMM0", "Value": "0x0 v2_int={...}", "DwarfNumber": 17}]
    def answer(method, p):
        if method == "ProcessPid": return {"Pid": 4242}
        if method == "ExamineMemory":
            a, n = p["Address"], p["Length"]
            if n > LIMIT: raise ValueError("len must be less than or equal to %d" % LIMIT)
            if mode == "exited": raise ValueError("Process 4242 has exited with status 0")
            if a < BASE or a + n > BASE + SIZE: raise ValueError("error while reading spliced memory at %#x: EOF" % a)
            return {"Mem": base64.b64encode(image[a - BASE:a - BASE + n]).decode(), "IsLittleEndian": True}
        if method == "ListThreads": return {"Threads": [{"id": 7, "pc": 1}, {"id": 5, "pc": 2}, {"id": 9, "pc": 3}]}
        if method == "ListRegisters":
            if p["ThreadID"] == 9: raise ValueError("thread 9 is running")
            return {"Regs": regs}
        if method == "Eval":
            if p["Expr"] == "m" and p["Scope"]["Frame"] == 1:
                return {"Variable": {"addr": 0xc000010000, "type": "map[string]int"}}
            raise ValueError("could not find symbol value for " + p["Expr"])
        if method == "State": return {"State": {"Running": False}}
        if method == "Detach": return {}
        raise ValueError("unknown method " + method)
    conn, _ = srv.accept()
    f = conn.makefile("rwb")
    for line in f:
        req = json.loads(line)
        method = req["method"].split(".", 1)[1]
        try:
            reply = {"id": req["id"], "result": answer(method, req["params"][0]), "error": None}
        except ValueError as e:
            reply = {"id": req["id"], "result": None, "error": str(e)}
        f.write(json.dumps(reply).encode() + b"\n"); f.flush()
        if method == "Detach":
            if mode == "wedged":
                time.sleep(3600)
            sys.exit(0)
    if mode == "wedged":
        time.sleep(3600)
    '''
)


@pytest.fixture
def fake_dlv(tmp_path, monkeypatch):
    path = tmp_path / "dlv"
    constants = f"BASE, SIZE, LIMIT = {BASE}, {SIZE}, {EXAMINE_MEMORY_LIMIT}\n"
    path.write_text(f"#!{sys.executable}\n{constants}{FAKE_DLV}")
    path.chmod(0o755)
    log = tmp_path / "dlv.log"
    monkeypatch.setenv("GODBG_DLV", str(path))
    monkeypatch.setenv("FAKE_DLV_LOG", str(log))
    monkeypatch.setattr(dlvclient, "STOP_TIMEOUT", 1.0)
    return log


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _started_pids(log) -> list[int]:
    import json

    return [json.loads(line)["pid"] for line in log.read_text().splitlines()]


def test_find_dlv_prefers_env_then_path(tmp_path, monkeypatch):
    monkeypatch.setenv("GODBG_DLV", str(tmp_path / "missing"))
    with pytest.raises(TargetError, match="GODBG_DLV"):
        find_dlv()
    exe = tmp_path / "dlv"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.delenv("GODBG_DLV")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_dlv() == str(exe)
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    monkeypatch.setattr(dlvclient, "CACHED_DLV", str(tmp_path / "also-missing"))
    with pytest.raises(TargetError, match="not found"):
        find_dlv()


def test_start_read_stop(fake_dlv):
    with DelveServer("core", ["bin", "core"], kill_on_stop=False) as server:
        assert server.pid == 4242
        assert server.listen_address.startswith("127.0.0.1:")
        argv = [a for a in (server.proc.args or [])]
        assert "--check-go-version=false" in argv and "--accept-multiclient" in argv
        data = server.examine_memory(BASE + 10, SIZE - 20)  # several chunks, pipelined
        assert data == bytes(i % 251 for i in range(SIZE))[10:-10]
        pid = server.proc.pid
    assert not _alive(pid)


def test_memory_faults_and_cache(fake_dlv):
    with DelveServer("core", ["bin", "core"], kill_on_stop=False) as server:
        raw = DelveMemory(server)
        with pytest.raises(FaultError):
            raw.read(BASE + SIZE - 8, 16)
        mem = CachedMemory(raw)
        with pytest.raises(FaultError):
            mem.read(BASE + SIZE - 8, 16)
        # The readable pages of a partly mapped range are still served.
        assert mem.read(BASE + SIZE - 8, 8) == bytes((i % 251) for i in range(SIZE - 8, SIZE))
        with pytest.raises(FaultError):
            mem.read(BASE - 8, 16)


def test_exited_process_is_a_target_error(fake_dlv, monkeypatch):
    monkeypatch.setenv("FAKE_DLV_MODE", "exited")
    with DelveServer("exec", ["bin"], kill_on_stop=True) as server:
        with pytest.raises(TargetError, match="exited") as info:
            DelveMemory(server).read(BASE, 8)
        assert not isinstance(info.value, FaultError)


def test_threads_registers_and_locals(fake_dlv):
    with DelveServer("core", ["bin", "core"], kill_on_stop=False) as server:
        threads = DelveThreads(server, "amd64", order=[7, 5])()
        assert [t.tid for t in threads] == [7, 5]  # thread 9 has no registers: left out
        assert threads[0].pc == 0x401000 and threads[0].sp == 0xC000012345
        assert threads[0].regs["eflags"] == 0x246
        live = DelveThreads(server, "amd64")()
        assert [t.tid for t in live] == [5, 7]
        resolve = LocalResolver(server)
        assert resolve("m") is None
        resolve.frame = 1
        assert resolve("m") == (0xC000010000, "map[string]int")


def test_refused_binary_is_one_line(fake_dlv, monkeypatch):
    monkeypatch.setenv("FAKE_DLV_MODE", "refuse")
    with pytest.raises(TargetError, match="delve exec failed: could not launch process: not an executable"):
        DelveServer("exec", ["bin"], kill_on_stop=True)
    monkeypatch.setenv("FAKE_DLV_MODE", "silent-exit")
    with pytest.raises(TargetError, match="delve core failed: could not open core: bad core"):
        DelveServer("core", ["bin", "core"], kill_on_stop=False)
    assert not any(_alive(p) for p in _started_pids(fake_dlv))


def test_wedged_dlv_is_killed(fake_dlv, monkeypatch):
    monkeypatch.setenv("FAKE_DLV_MODE", "wedged")
    server = DelveServer("core", ["bin", "core"], kill_on_stop=False)
    pid = server.proc.pid
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 10
    assert not _alive(pid)


def test_atexit_stops_servers(fake_dlv, tmp_path):
    """A script that starts a server and exits without stopping it leaves nothing."""
    script = tmp_path / "leak.py"
    script.write_text(
        "from godbg.backends.delve.client import DelveServer\n"
        "s = DelveServer('core', ['bin', 'core'], kill_on_stop=False)\n"
        "print(s.proc.pid)\n"
    )
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    pid = int(out.stdout.split()[0])
    assert not _alive(pid)


def test_parse_registers_arm64_and_junk():
    regs = parse_registers([
        {"Name": "X29", "Value": "0x0000000000001000"},
        {"Name": "SP", "Value": "0x0000000000002000"},
        {"Name": "PC", "Value": "0x0000000000003000"},
        {"Name": "V0", "Value": " {\n\tD = {u = {0x0,"},
        {"Name": "", "Value": "0x1"},
    ])
    assert regs == {"x29": 0x1000, "sp": 0x2000, "pc": 0x3000}


def test_interrupted_call_does_not_desync(fake_dlv, monkeypatch):
    """Ctrl-C while a reply is awaited: the next call must not take that stale reply."""
    with DelveServer("core", ["bin", "core"], kill_on_stop=False) as server:
        rpc = server.rpc
        assert rpc is not None
        real = rpc._file.readline
        calls = {"n": 0}

        def interrupted_once():
            calls["n"] += 1
            if calls["n"] == 1:
                raise KeyboardInterrupt
            return real()

        monkeypatch.setattr(rpc._file, "readline", interrupted_once)
        with pytest.raises(KeyboardInterrupt):
            server.call("ProcessPid")
        assert server.examine_memory(BASE, 4) == bytes(range(4))
