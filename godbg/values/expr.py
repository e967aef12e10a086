"""``print``'s expressions: a root (a global, a local, or ``0xADDR``) then selectors
``.field``, ``[i]``, ``["k"]`` / ``[42]`` (map index), with ``*p``, ``len(x)``, ``cap(x)``
around them. Parsed into a small tree; ``godbg.values.evaluate`` walks it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Union

from godbg.errors import BadInputError

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ROOT = re.compile(r"0[xX][0-9a-fA-F]+|[A-Za-z_][A-Za-z0-9_./\-]*")
_NUMBER = re.compile(r"-?(0[xX][0-9a-fA-F]+|\d+(\.\d*)?([eE][-+]?\d+)?)")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
# Nesting of *, len(), cap() and parentheses at most (a bound, not a grammar rule).
MAX_NESTING = 64

Key = Union[str, int, float, bool]


@dataclass(frozen=True)
class Root:
    text: str  # "main.cfg.Owner" (selectors still inside: resolved against known names) or "0x…"


@dataclass(frozen=True)
class Field:
    of: Node
    name: str


@dataclass(frozen=True)
class Index:
    of: Node
    key: Key
    quoted: bool  # ["k"]: a string key; [3]: a number


@dataclass(frozen=True)
class Deref:
    of: Node


@dataclass(frozen=True)
class Builtin:
    name: str  # len, cap
    of: Node


Node = Union[Root, Field, Index, Deref, Builtin]


def parse(text: str) -> Node:
    p = _Parser(text.strip())
    node = p.expr(0)
    if p.pos != len(p.s):
        raise BadInputError(f"print: cannot parse {text!r} at {p.s[p.pos:]!r}")
    return node


class _Parser:
    def __init__(self, s: str) -> None:
        self.s = s
        self.pos = 0

    def _fail(self, what: str) -> BadInputError:
        return BadInputError(f"print: {what} at {self.s[self.pos:]!r} in {self.s!r}")

    def _skip(self) -> None:
        while self.pos < len(self.s) and self.s[self.pos] == " ":
            self.pos += 1

    def expr(self, nesting: int) -> Node:
        if nesting > MAX_NESTING:
            raise self._fail("too deeply nested")
        self._skip()
        s = self.s
        if s.startswith("*", self.pos):
            self.pos += 1
            return Deref(self.expr(nesting + 1))
        for name in ("len", "cap"):
            if re.match(rf"{name}\s*\(", s[self.pos:]):
                self.pos = s.index("(", self.pos) + 1
                inner = self.expr(nesting + 1)
                self._expect(")")
                return self.selectors(Builtin(name, inner))
        if s.startswith("(", self.pos):
            self.pos += 1
            inner = self.expr(nesting + 1)
            self._expect(")")
            return self.selectors(inner)
        m = _ROOT.match(s, self.pos)
        if m is None:
            raise self._fail("expected a name or 0xADDR")
        self.pos = m.end()
        text = m.group(0).rstrip(".")
        self.pos = m.start() + len(text)
        return self.selectors(Root(text))

    def _expect(self, ch: str) -> None:
        self._skip()
        if not self.s.startswith(ch, self.pos):
            raise self._fail(f"expected {ch!r}")
        self.pos += 1

    def selectors(self, node: Node) -> Node:
        s = self.s
        for _ in range(len(s) + 1):
            self._skip()
            if s.startswith(".", self.pos):
                m = _IDENT.match(s, self.pos + 1)
                if m is None:
                    raise self._fail("expected a field name")
                node = Field(node, m.group(0))
                self.pos = m.end()
            elif s.startswith("[", self.pos):
                self.pos += 1
                self._skip()
                node = Index(node, *self._key())
                self._expect("]")
            else:
                break
        return node

    def _key(self) -> tuple[Key, bool]:
        s = self.s
        m = _STRING.match(s, self.pos)
        if m is not None:
            self.pos = m.end()
            return str(json.loads(m.group(0))), True
        for word, value in (("true", True), ("false", False)):
            if s.startswith(word, self.pos):
                self.pos += len(word)
                return value, False
        m = _NUMBER.match(s, self.pos)
        if m is None:
            raise self._fail("expected an index or a quoted key")
        self.pos = m.end()
        t = m.group(0)
        if re.fullmatch(r"-?0[xX][0-9a-fA-F]+|-?\d+", t):
            return int(t, 0), False
        return float(t), False
