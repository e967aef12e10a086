"""JSON out, fast and streamed: the bytes of ``json.dumps(doc, ensure_ascii=False)``,
written piece by piece as the document is produced.

A document is a dict whose values may be :class:`Stream` (a list whose items are
produced while it is written: a 100,000-goroutine listing is never held whole) and
:class:`Deferred` (a value known only once the streams before it are written, such
as a count). :func:`materialize` turns both into plain lists and values for code that
wants the whole document (text renderers, the Python API).

Encoding: the documents godbg writes are many small records of a few shapes whose
strings repeat (function names, files, statuses), so strings are encoded once and
remembered, and ints go through ``int.__repr__`` as the json module does. When orjson
is importable it encodes the flat lists of numbers (group ids, map entries of numbers)
whose compact form differs from the json module's only by the space after each
comma. Either way the bytes are those of ``json.dumps(doc, ensure_ascii=False)``; the
pure-Python path is what gdb's embedded Python uses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from json.encoder import encode_basestring  # the C version when the json module has it
from typing import Any, Callable, Optional

try:  # an optional speed-up, never required
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None

Write = Callable[[str], None]
Emit = Callable[[Any], None]

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

    def __init__(self, produce: Callable[[Emit], None]) -> None:
        self.produce = produce

    @classmethod
    def of(cls, items: Iterable[Any]) -> Stream:
        def produce(emit: Emit) -> None:
            for item in items:
                emit(item)

        return cls(produce)

    def __iter__(self) -> Iterator[Any]:
        out: list[Any] = []
        self.produce(out.append)
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
    """``encode(value)`` == ``json.dumps(value, ensure_ascii=False)``, faster for godbg's
    records: strings are encoded once per encoder, the common types are dispatched
    without the json module's generic machinery."""

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}

    def string(self, s: str) -> str:
        found = self._strings.get(s)
        if found is None:
            if len(self._strings) >= MAX_MEMO_STRINGS:
                self._strings.clear()
            found = self._strings[s] = encode_basestring(s)
        return found

    def encode(self, v: Any) -> str:
        t = type(v)
        if t is str:
            return self.string(v)
        if t is int:
            return int.__repr__(v)
        if v is None:
            return "null"
        if t is bool:
            return "true" if v else "false"
        if t is dict:
            return self.object(v)
        if t is list or t is tuple:
            return self.array(v)
        return _dumps(v)

    def object(self, d: dict[str, Any]) -> str:
        if not d:
            return "{}"
        enc = self.encode
        string = self.string
        parts = []
        for k, v in d.items():
            if type(k) is not str:
                return _dumps(d)  # int keys and the like: the json module's rules
            parts.append(string(k) + ": " + enc(v))
        return "{" + ", ".join(parts) + "}"

    def array(self, items: list[Any] | tuple[Any, ...]) -> str:
        if not items:
            return "[]"
        fast = numbers_array(items)
        if fast is not None:
            return fast
        return "[" + ", ".join([self.encode(v) for v in items]) + "]"


def numbers_array(items: Any) -> Optional[str]:
    """``json.dumps(items)`` for a list or tuple of plain ints (or rows of them), else
    None. orjson when it is there; the result is the same either way."""
    first = items[0]
    t = type(first)
    if t is int:
        if _orjson is not None and all(type(x) is int and -(1 << 63) <= x < 1 << 64 for x in items):
            return _orjson.dumps(items).decode().replace(",", ", ")
        if all(type(x) is int for x in items):
            return "[" + ", ".join(map(int.__repr__, items)) + "]"
        return None
    if (t is tuple or t is list) and _orjson is not None and all(
            (type(row) is tuple or type(row) is list) and all(type(x) is int and -(1 << 63) <= x < 1 << 64
                                                             for x in row)
            for row in items):
        return _orjson.dumps(items).decode().replace(",", ", ")
    return None


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

    def emit(item: Any) -> None:
        nonlocal started
        write(", " + encode(item) if started else encode(item))
        started = True

    stream.produce(emit)
    write("]")


def write_lines(stream: Stream, sink: Write, encoder: Encoder | None = None) -> int:
    """JSON Lines: each item of ``stream`` as one JSON text and a newline. The count."""
    enc = encoder or Encoder()
    out = Writer(sink)
    write = out.write
    encode = enc.encode
    count = 0

    def emit(item: Any) -> None:
        nonlocal count
        write(encode(item) + "\n")
        count += 1

    stream.produce(emit)
    out.flush()
    return count
