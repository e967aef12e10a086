"""godbg.render.jsonout writes the bytes of json.dumps(doc, ensure_ascii=False), with orjson
and without it (gdb's embedded Python), streamed or not."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from godbg.render import jsonout
from godbg.render.jsonout import Deferred, Encoder, Stream, materialize, write_document, write_lines

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(1 << 70), max_value=1 << 70),
                    st.floats(allow_nan=False), st.text())
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=6), st.dictionaries(st.text(), inner, max_size=6),
    st.lists(st.lists(st.integers(min_value=-(1 << 65), max_value=1 << 65), max_size=3), max_size=5)), max_leaves=25)


@pytest.fixture(params=["orjson", "pure"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "pure":
        monkeypatch.setattr(jsonout, "_orjson", None)
    elif jsonout._orjson is None:
        pytest.skip("orjson is not installed")
    return str(request.param)


def _dumps(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False)


@settings(max_examples=100, deadline=None)
@given(values)
def test_encode_is_json_dumps(v: Any) -> None:
    for orjson in (jsonout._orjson, None):
        saved = jsonout._orjson
        jsonout._orjson = orjson
        try:
            assert Encoder().encode(v) == _dumps(v)
        finally:
            jsonout._orjson = saved


def test_numbers_and_rows(engine: str) -> None:
    enc = Encoder()
    for v in ([1, -2, 1 << 63, (1 << 64) - 1, 1 << 64, -(1 << 63) - 1], [[1, 2], [3, 4]], [(5, 6)], [[1], []],
              [True, 1], [1.0, 2], [[1, "a,b"]], [["x:y", 2]], (1, 2, 3)):
        assert enc.encode(v) == _dumps(v), v
    assert enc.lines([[1, 2], [3, 4]]) == "[1, 2]\n[3, 4]\n"
    assert enc.lines([["a, b", {"k": [1]}]]) == '["a, b", {"k": [1]}]\n'


def test_streamed_document_is_json_dumps(engine: str) -> None:
    records = [{"id": i, "status": "waiting", "where": "a.go:1", "stack": {"lo": i << 40, "used": None}}
               for i in range(2000)]
    seen = 0

    def produce(emit: jsonout.Emitter) -> None:
        nonlocal seen
        for r in records[:1000]:
            seen += 1
            emit(r)
        emit.many(records[1000:])
        seen += 1000

    doc = {"goroutines": Stream(produce), "total": Deferred(lambda: seen), "groups": [{"ids": [3, 1]}]}
    chunks: list[str] = []
    write_document(doc, chunks.append, tail=lambda: {"warnings": ["w ✓"]})
    want = _dumps({"goroutines": records, "total": 2000, "groups": [{"ids": [3, 1]}], "warnings": ["w ✓"]})
    assert "".join(chunks) == want
    assert len(chunks) > 1  # written in pieces, not built whole


def test_materialize_and_lines(engine: str) -> None:
    doc = {"a": Stream.of([1, 2]), "n": Deferred(lambda: 7), "d": {"s": Stream.of(["x"])}}
    assert materialize(doc) == {"a": [1, 2], "n": 7, "d": {"s": ["x"]}}
    out: list[str] = []

    def produce(emit: jsonout.Emitter) -> None:
        emit({"k": "v"})
        emit.many([[1, 2], [3, 4]])
        emit.many([])
        emit.many([["é", None]])

    assert write_lines(Stream(produce), out.append) == 4
    assert "".join(out) == '{"k": "v"}\n[1, 2]\n[3, 4]\n["é", null]\n'
