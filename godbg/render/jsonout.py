"""JSON out, fast and streamed: the bytes of ``json.dumps(doc, ensure_ascii=False)``,
written piece by piece as the document is produced.

A document is a dict whose values may be :class:`Stream` (a list whose items are
produced while it is written: a 100,000-goroutine listing is never held whole) and
:class:`Deferred` (a value known only once the streams before it are written, such
as a count). :func:`materialize` turns both into plain lists and values for code that
wants the whole document (text renderers, the Python API).

Encoding: each record goes through the json module's C encoder without its cycle check
(godbg's documents are trees). When orjson is importable it encodes the lists of plain
numbers (group ids, batches of map entries of numbers), whose compact form differs from
the json module's only by the space after each comma. Either way the bytes are those of
``json.dumps(doc, ensure_ascii=False)``; without orjson (gdb's embedded Python) the json
module does it all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from json.encoder import encode_basestring  # the C version when the json module has it
from typing import Any, Callable, Optional

_orjson: Any
try:  # an optional speed-up, never required
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None

Write = Callable[[str], None]

# Output is handed to the sink in pieces of about this many characters.
FLUSH_CHARS = 1 << 16
# Strings remembered by the encoder; past this the memo is dropped and starts again.
MAX_MEMO_STRINGS = 1 << 16

_dumps = json.JSONEncoder(ensure_ascii=False).encode


class Stream:
    """A list produced while it is written: ``produce(emit)`` calls ``emit(item)`` for
    each item in order (push style, so decoders that walk memory with callbacks can feed
    it). Iterating runs the producer and collects the items (the non-streamed path)."""

    __slots__ = ("produce",)

    def __init__(self, produce: Callable[[Emitter], None]) -> None:
        self.produce = produce

    @classmethod
    def of(cls, items: Iterable[Any]) -> Stream:
        def produce(emit: Emitter) -> None:
            for item in items:
                emit(item)

        return cls(produce)

    def __iter__(self) -> Iterator[Any]:
        out: list[Any] = []
        self.produce(Emitter(out.append, out.extend))
        return iter(out)


class Deferred:
    """A value computed when it is written (after the streams before it)."""

    __slots__ = ("get",)

    def __init__(self, get: Callable[[], Any]) -> None:
        self.get = get


def materialize(value: Any) -> Any:
    """The document with every Stream a list and every Deferred its value, in order."""
    if isinstance(value, dict):
        return {k: materialize(v) for k, v in value.items()}
    if isinstance(value, Stream):
        return [materialize(item) for item in value]
    if isinstance(value, Deferred):
        return materialize(value.get())
    return value


class Encoder:
    """``encode(value)`` == ``json.dumps(value, ensure_ascii=False)``: the json module's C
    encoder without its cycle check (godbg's documents are trees), strings of keys
    remembered, and flat rows of numbers through orjson when it is importable."""

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}
        self._encode = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode

    def string(self, s: str) -> str:
        found = self._strings.get(s)
        if found is None:
            if len(self._strings) >= MAX_MEMO_STRINGS:
                self._strings.clear()
            found = self._strings[s] = encode_basestring(s)
        return found

    def encode(self, v: Any) -> str:
        t = type(v)
        if (t is list or t is tuple) and v:
            fast = numbers_array(v)
            if fast is not None:
                return fast
        return self._encode(v)

    def lines(self, items: list[Any]) -> str:
        """Each item as one JSON text and a newline."""
        if items and type(items[0]) in (list, tuple):
            fast = numbers_array(items)
            if fast is not None:  # "[[1, 2], [3, 4]]" -> "[1, 2]\n[3, 4]\n"
                return fast[1:-1].replace("], [", "]\n[") + "\n"
        encode = self.encode
        return "".join([encode(item) + "\n" for item in items])


def _plain_ints(row: Any) -> bool:
    return all(type(x) is int and _INT64_MIN <= x <= _UINT64_MAX for x in row)


def numbers_array(items: Any) -> Optional[str]:
    """``json.dumps(items)`` for a non-empty list or tuple of plain 64-bit ints, or of
    rows of them (map entries), else None. orjson's compact form differs from the json
    module's only by the space after each comma, and numbers hold no commas."""
    if _orjson is None:
        return None
    t = type(items[0])
    if t is int:
        ok = _plain_ints(items)
    elif t is tuple or t is list:
        ok = all((type(row) is tuple or type(row) is list) and row and _plain_ints(row) for row in items)
    else:
        ok = False
    return _orjson.dumps(items).decode().replace(",", ", ") if ok else None


_INT64_MIN, _UINT64_MAX = -(1 << 63), (1 << 64) - 1


class Emitter:
    """What a Stream's producer calls: ``emit(item)`` for one item, ``emit.many(items)``
    for a batch (decoders that have a bucket or group of entries at once)."""

    __slots__ = ("one", "many")

    def __init__(self, one: Callable[[Any], None], many: Callable[[list[Any]], None]) -> None:
        self.one = one
        self.many = many

    def __call__(self, item: Any) -> None:
        self.one(item)


class Writer:
    """Buffers pieces of output and hands them to ``sink`` in large chunks."""

    def __init__(self, sink: Write) -> None:
        self.sink = sink
        self.parts: list[str] = []
        self.size = 0

    def write(self, s: str) -> None:
        self.parts.append(s)
        self.size += len(s)
        if self.size >= FLUSH_CHARS:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.sink("".join(self.parts))
            self.parts = []
            self.size = 0


def write_document(doc: dict[str, Any], sink: Write, tail: Callable[[], dict[str, Any]] | None = None,
                   encoder: Encoder | None = None) -> None:
    """Write ``doc`` (plus the keys ``tail()`` returns once everything else is written:
    warnings gathered on the way) as ``json.dumps`` would, streaming its Streams."""
    enc = encoder or Encoder()
    out = Writer(sink)
    write = out.write
    write("{")
    first = True
    for key, value in _items_then_tail(doc, tail):
        write(("" if first else ", ") + enc.string(key) + ": ")
        first = False
        if isinstance(value, Stream):
            _write_stream(value, write, enc)
        elif isinstance(value, Deferred):
            write(enc.encode(materialize(value.get())))
        else:
            write(enc.encode(materialize(value)))
    write("}")
    out.flush()


def _items_then_tail(doc: dict[str, Any], tail: Callable[[], dict[str, Any]] | None) -> Iterator[tuple[str, Any]]:
    yield from doc.items()
    if tail is not None:
        yield from tail().items()


def _write_stream(stream: Stream, write: Write, enc: Encoder) -> None:
    write("[")
    started = False
    encode = enc.encode

    def one(item: Any) -> None:
        nonlocal started
        write(", " + encode(item) if started else encode(item))
        started = True

    def many(items: list[Any]) -> None:
        nonlocal started
        if items:
            text = encode(items)[1:-1]
            write(", " + text if started else text)
            started = True

    stream.produce(Emitter(one, many))
    write("]")


def write_lines(stream: Stream, sink: Write, encoder: Encoder | None = None) -> int:
    """JSON Lines: each item of ``stream`` as one JSON text and a newline. The count."""
    enc = encoder or Encoder()
    out = Writer(sink)
    write = out.write
    encode = enc.encode
    count = 0

    def one(item: Any) -> None:
        nonlocal count
        write(encode(item) + "\n")
        count += 1

    def many(items: list[Any]) -> None:
        nonlocal count
        if items:
            write(enc.lines(items))
            count += len(items)

    stream.produce(Emitter(one, many))
    out.flush()
    return count
