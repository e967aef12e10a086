"""In gdb: `print` of a channel shows the decoded hchan, and `go chan`, `go waits`,
`go leaks` answer as on the core file, against testdata/waits' own record."""

from __future__ import annotations

import json
import re

import pytest

from tests.integration import matrix
from tests.integration.gdbrun import gdb_batch

pytestmark = [pytest.mark.gdb]

# $1 = chan string 0xc000096120 len 4 cap 4, receivers: none, senders: 14 ("e") = {"a", "b", "c", "d"}
HEAD = re.compile(r"^\$\d+ = chan string (0x[0-9a-f]+) len (\d+) cap (\d+), "
                  r"receivers: (.*?), senders: (.*?) = \{(.*)\}$", re.S)


@pytest.mark.builds(lambda b: b.go in ("1.22.10", "1.27.3") and not b.goexperiment)
@pytest.mark.core_kinds("kernel")
def test_print_channel_and_commands_in_gdb(build: matrix.Build, core_kind: str) -> None:
    fx = matrix.crash("waits", build, core_kind=core_kind)
    roles = fx.truth["roles"]
    res = gdb_batch(["print 'main.buffered'", "go chan main.sendCh --json", "go waits --json", "go leaks --json"],
                    str(fx.binary), str(fx.core))
    m = HEAD.match(res.outputs[0])
    assert m, res.outputs[0] + res.stderr[-2000:]
    assert (int(m.group(2)), int(m.group(3))) == (4, 4)
    assert m.group(4) == "none" and m.group(5) == f'{roles["bufsend"]["ids"][0]} ("e")'
    assert re.findall(r'"(\w)"', m.group(6)) == fx.truth["buffered"]
    send = json.loads(res.outputs[1])
    assert sorted(s["goroutine"] for s in send["send_waiters"]) == roles["send"]["ids"]
    objects = {o["object"]: sorted(o["waiters"]) for o in json.loads(res.outputs[2])["objects"]}
    assert objects["main.mu"] == roles["mutex"]["ids"] and objects["main.wg"] == roles["wg"]["ids"]
    leaked = [lk["goroutine"] for lk in json.loads(res.outputs[3])["leaked"]]
    assert leaked == sorted(i for r in roles.values() if r["leaked"] for i in r["ids"])
