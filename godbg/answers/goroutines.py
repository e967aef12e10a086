"""`goroutines`: every goroutine (or those a filter picks) with its status, where it is,
its creator, M, stack figures, labels and what it waits on; or, grouped, one entry per
distinct stack (panicparse-style).

A listing streams: goroutines are decoded and handed out one at a time, their labels
and waits read a chunk of goroutines at a time (runtime/waits.py), nothing kept per
goroutine (``iter_goroutines``)."""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Optional, Union

from godbg.answers.bt import backtrace
from godbg.errors import BadInputError
from godbg.program.target import Target
from godbg.results.frames import SourceFrame
from godbg.results.goroutines import (
    GROUP_BY_LABELS,
    GROUP_BY_OBJECT,
    Goroutine,
    GoroutineGroup,
    GoroutineGroups,
    Goroutines,
)
from godbg.results.waits import WaitingOn
from godbg.runtime import goroutines as rg
from godbg.runtime.unwind import PcPredicate, Unwinder, unwinder
from godbg.runtime.waits import WAITS_CHUNK, Namer, chunked, goroutine_waits

DEAD = "dead"
DEAD_EXTRA = "deadextra"

Statuses = Optional[Union[str, Iterable[str]]]
"""Statuses (waiting, running, syscall, runnable, dead, …) or wait reasons ("chan
receive"), any of which a goroutine may have; one string may hold several separated by
commas. None or empty: every goroutine but the dead."""


def goroutines(target: Target, *, status: Statuses = None, function: str | None = None,
               labels: Mapping[str, str] | None = None, waiting_on: str | None = None,
               limit: int = 0) -> Goroutines:
    """Every goroutine the filters pick, in allgs order: ``status`` (see Statuses),
    ``function`` (a regular expression a function anywhere in its stack matches),
    ``labels`` (pprof labels it must all have), ``waiting_on`` (the name or "0x…" address
    of the object it waits on; any channel of a select). At most ``limit`` (0: all);
    ``total`` counts them all."""
    kept: list[Goroutine] = []
    total = 0
    for g in iter_goroutines(target, status=status, function=function, labels=labels, waiting_on=waiting_on):
        total += 1
        if not limit or total <= limit:
            kept.append(g)
    return Goroutines(tuple(kept), total)


def iter_goroutines(target: Target, *, status: Statuses = None, function: str | None = None,
                    labels: Mapping[str, str] | None = None, waiting_on: str | None = None) -> Iterator[Goroutine]:
    """``goroutines`` one at a time, none kept (what a streamed listing writes). Bad
    filters raise here, before the first goroutine is decoded."""
    picked = _picked(target, _Filter.of(status, function, labels, waiting_on), full=bool(function))
    return (g for _rec, g in picked)


def goroutine_groups(target: Target, *, status: Statuses = None, function: str | None = None,
                     labels: Mapping[str, str] | None = None, waiting_on: str | None = None, limit: int = 0,
                     group_by: Iterable[str] = ()) -> GoroutineGroups:
    """The goroutines the filters pick (see ``goroutines``) whose frames (function, file,
    line) are the same, one group each, largest first (ties: by smallest id). ``group_by``
    (GROUP_BY_OBJECT, GROUP_BY_LABELS) also keeps apart goroutines that wait on different
    objects or have different labels. At most ``limit`` groups (0: all)."""
    by = tuple(group_by)
    picked = _picked(target, _Filter.of(status, function, labels, waiting_on), full=True)
    groups, total = _group(picked, unwinder(target), by)
    return GoroutineGroups(tuple(groups[:limit] if limit else groups), len(groups), total)


def statuses(status: Statuses) -> frozenset[str]:
    """The statuses and wait reasons ``status`` names (commas separate several)."""
    texts = [status] if isinstance(status, str) else list(status or ())
    return frozenset(part.strip() for s in texts for part in s.split(",") if part.strip())


@dataclass(frozen=True)
class _Filter:
    statuses: frozenset[str]
    pattern: re.Pattern[str] | None
    labels: Mapping[str, str]
    waiting_on: str | int | None  # an object's name or address

    @classmethod
    def of(cls, status: Statuses, function: str | None, labels: Mapping[str, str] | None,
           waiting_on: str | None) -> _Filter:
        pattern = None
        if function:
            try:
                pattern = re.compile(function)
            except re.error as e:
                raise BadInputError(f"--function: bad regular expression {function!r}: {e}") from None
        wanted: str | int | None = waiting_on or None
        if waiting_on and waiting_on.lower().startswith("0x"):
            try:
                wanted = int(waiting_on, 16)
            except ValueError:
                raise BadInputError(f"--waiting-on: bad address {waiting_on!r}") from None
        return cls(statuses(status), pattern, dict(labels or {}), wanted)

    def status_matches(self, g: Goroutine) -> bool:
        wanted = self.statuses
        if not wanted:
            return True
        base = g.status.split("+")[0]
        if base == DEAD_EXTRA and DEAD in wanted:  # an extra M's parked g: dead, as Go counts it
            return True
        return g.status in wanted or base in wanted or (g.wait_reason or "") in wanted


def waits_on(w: WaitingOn | None, wanted: str | int) -> bool:
    """Does a goroutine waiting on ``w`` wait on ``wanted`` (an object's name, or its
    address; a select on any of its channels)?"""
    if w is None:
        return False
    if isinstance(wanted, int):
        return (bool(w.address) and w.address == wanted) or any(c.address == wanted for c in w.channels or ())
    return w.object == wanted or any(c.object == wanted for c in w.channels or ())


def _picked(target: Target, wanted: _Filter, full: bool) -> Iterator[tuple[rg.GoroutineRecord | None, Goroutine]]:
    """The goroutines ``wanted`` picks, with their walk records (``full``: complete walks,
    which a function pattern needs; else None for a stack like one already walked)."""
    pattern = wanted.pattern
    matches = PcPredicate(unwinder(target), lambda infos: any(pattern.search(i[0]) for i in infos)) \
        if pattern is not None else None
    return _kept(_annotated(target, include_dead=DEAD in wanted.statuses, full=full), wanted, matches)


def _kept(items: Iterator[tuple[rg.GoroutineRecord | None, Goroutine]], wanted: _Filter,
          matches: PcPredicate | None) -> Iterator[tuple[rg.GoroutineRecord | None, Goroutine]]:
    for rec, g in items:
        if not wanted.status_matches(g):
            continue
        # A pattern asks for full walks, so rec is never None here.
        if matches is not None and not any(matches[(pf.pc, pf.trap)] for pf in rec.stack.frames):  # type: ignore[union-attr]
            continue
        if wanted.labels and any(g.labels.get(k) != v for k, v in wanted.labels.items()):
            continue
        if wanted.waiting_on is not None and not waits_on(g.waiting_on, wanted.waiting_on):
            continue
        yield rec, g


def _annotated(target: Target, include_dead: bool, full: bool) -> Iterator[tuple[rg.GoroutineRecord | None, Goroutine]]:
    """Every goroutine as a Goroutine, with its walk record. The fields the g and its walk
    give come one at a time; labels and waits complete them a chunk of goroutines at a time
    (the chunk's g fields read in bulk; wait objects' names memoized across chunks)."""
    namer = Namer(target, rg.all_stacks(target, include_dead))
    frames_of = partial(backtrace, target)
    for chunk in chunked(rg.iter_goroutines(target, include_dead=include_dead, full=full), WAITS_CHUNK):
        waits = goroutine_waits(target, [g for g, _rec, _fields in chunk], namer, keep=False)
        for g, rec, fields in chunk:
            w = waits.get(g.goid)
            if w is None:
                yield rec, Goroutine(*fields, {}, None, frames_of)
            else:
                yield rec, Goroutine(*fields, w.labels, w.waiting_on, frames_of)


def _wait_key(g: Goroutine, by: tuple[str, ...]) -> tuple[Any, ...]:
    key: tuple[Any, ...] = ()
    if GROUP_BY_OBJECT in by:
        w = g.waiting_on
        key += (w.kind, w.address or None, tuple(c.address for c in w.channels or ())) if w is not None \
            else (None, None, ())
    if GROUP_BY_LABELS in by:
        key += (tuple(sorted(g.labels.items())),)
    return key


class _Bucket:
    """Goroutines of one group (ids in a compact array) and the first of them, whose
    frames, creator and user function stand for all."""

    __slots__ = ("ids", "first", "rec")

    def __init__(self, first: Goroutine, rec: rg.GoroutineRecord) -> None:
        self.ids = array("q")
        self.first = first
        self.rec = rec


def _group(picked: Iterable[tuple[rg.GoroutineRecord | None, Goroutine]], u: Unwinder,
           by: tuple[str, ...]) -> tuple[list[GoroutineGroup], int]:
    """The groups, largest first (ties: by the smallest goroutine id), and how many
    goroutines there were. Bucketed by physical pcs first, so logical frames are built
    once per distinct stack, not once per goroutine; each goroutine leaves only its id."""
    by_pcs: dict[tuple[Any, ...], _Bucket] = {}
    total = 0
    for rec, g in picked:
        if rec is None:  # full walks give every goroutine its record
            raise AssertionError("goroutines --group: a goroutine without its stack record")
        total += 1
        key = (tuple([(pf.pc, pf.trap) for pf in rec.stack.frames]), g.status, g.wait_reason, _wait_key(g, by))
        bucket = by_pcs.get(key)
        if bucket is None:
            bucket = by_pcs[key] = _Bucket(g, rec)
        bucket.ids.append(g.id)
    merged: dict[tuple[Any, ...], tuple[_Bucket, tuple[SourceFrame, ...]]] = {}
    for key, bucket in by_pcs.items():
        frames = tuple(SourceFrame(info[0], info[1], info[2])
                       for pf in bucket.rec.stack.frames for info in u.logical_info(pf))
        first = bucket.first
        lkey = (frames, first.status, first.wait_reason, key[3])
        found = merged.get(lkey)
        if found is None:
            merged[lkey] = (bucket, frames)
        else:
            found[0].ids.extend(bucket.ids)
    groups = [_group_of(bucket, frames, by) for bucket, frames in merged.values()]
    groups.sort(key=lambda grp: (-len(grp.ids), grp.ids[0]))
    return groups, total


def _group_of(bucket: _Bucket, frames: tuple[SourceFrame, ...], by: tuple[str, ...]) -> GoroutineGroup:
    first = bucket.first
    return GoroutineGroup(
        ids=tuple(sorted(bucket.ids)), status=first.status, wait_reason=first.wait_reason,
        created_by=first.created_by, user_function=first.user_function, frames=frames,
        waiting_on=first.waiting_on if GROUP_BY_OBJECT in by else None,
        labels=first.labels if GROUP_BY_LABELS in by else None, group_by=by,
    )
