"""Errors are never zeros, and a bug is not bad input: a runtime field the release lacks is
an UnsupportedError naming it; an unexpected exception exits 3 with one line that says it
is godbg's bug and how to report it; a GodbgError exits 2."""

from __future__ import annotations

import pytest

from godbg import cli
from godbg.errors import EXIT_BAD_INPUT, EXIT_BUG, BadInputError, UnsupportedError
from godbg.runtime.fieldreader import FieldReader
from godbg.runtime.g import G_FIELDS
from godbg.runtime.layouts import StructLayout


def _g_layout(without: str = "") -> StructLayout:
    offsets, sizes = {}, {}
    for i, (path, _fmt) in enumerate(G_FIELDS.values()):
        if path != without:
            offsets[path], sizes[path] = 8 * i, 8
    return StructLayout("runtime.g", 8 * len(G_FIELDS), offsets, sizes)


def test_every_field_present_reads():
    reader = FieldReader(_g_layout(), G_FIELDS, {})
    data = b"".join(i.to_bytes(8, "little") for i in range(len(G_FIELDS)))
    values = reader.decode(data)
    assert values["goid"] == list(G_FIELDS).index("goid")


def test_a_missing_field_is_an_error_naming_it():
    with pytest.raises(UnsupportedError, match=r"runtime\.g has no field 'waitsince'"):
        FieldReader(_g_layout(without="waitsince"), G_FIELDS, {})


def test_a_fallback_name_stands_in():
    spec = {"status": ("atomicstatus.value", "I")}
    lay = StructLayout("runtime.g", 8, {"atomicstatus": 0}, {"atomicstatus": 4})
    reader = FieldReader(lay, spec, {"status": "atomicstatus"})
    assert reader.decode((7).to_bytes(8, "little")) == {"status": 7}


def test_a_bug_exits_3_with_the_way_to_report_it(monkeypatch, capsys):
    def boom(argv: list[str]) -> int:
        raise KeyError("oops")

    monkeypatch.setattr(cli, "_main", boom)
    assert cli.main(["core", "x", "y", "info"]) == EXIT_BUG
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "a bug in godbg" in err and "GODBG_DEBUG=1" in err and "KeyError" in err


def test_bad_input_exits_2(monkeypatch, capsys):
    def bad(argv: list[str]) -> int:
        raise BadInputError("no goroutine 42")

    monkeypatch.setattr(cli, "_main", bad)
    assert cli.main(["core", "x", "y", "bt", "42"]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err == "godbg: no goroutine 42\n"
