"""`map EXPR [--limit N] [--stats]`: a map's entries and its internal structure."""

from __future__ import annotations

import argparse

from godbg.answers.maps import EntryWalk, map_contents, map_entries
from godbg.commands.base import Outcome, add_jsonl_flag, positive_int, wants_json
from godbg.errors import BadInputError
from godbg.program.target import Target
from godbg.render.jsonout import Emitter, Stream

NAME = "map"
HELP = ("A map's entries and its internal structure (classic buckets or swiss tables). EXPR is a Go "
        "global (main.cache), a local of the selected frame (gdb, delve), or 0xADDR --type 'map[K]V' "
        "where ADDR is the map's header (the pointer a map variable holds).")

DOC = """
## JSON Lines

`--jsonl` prints one `[key, value]` a line and nothing else on stdout: each entry exactly as it
appears in the `--json` document's `entries`, in the same order, written a group array (swiss) or a
bucket (classic) at a time as the map is decoded, so that a map of ten million entries needs no more
memory than one of ten. `--limit` applies (default: all); `--stats` needs `--json`; warnings (a
header count that does not match the entries found, say) go to stderr.
"""

DEFAULT_TEXT_LIMIT = 100


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expr", metavar="EXPR", help="main.cache, a local variable, or 0xADDR with --type")
    parser.add_argument("--type", dest="map_type", metavar="'map[K]V'",
                        help="the map's Go type, required with an address")
    parser.add_argument("--limit", type=positive_int, default=None, metavar="N",
                        help=f"at most N entries; 0 means all (default {DEFAULT_TEXT_LIMIT}, all with --json)")
    parser.add_argument("--stats", action="store_true",
                        help="add the internal structure: buckets or tables, load, growth, tombstones")
    add_jsonl_flag(parser, "each entry as [key, value] (in the order --json lists them)")


def run(target: Target, args: argparse.Namespace) -> Outcome:
    limit = args.limit
    if limit is None:
        limit = 0 if wants_json(args) else DEFAULT_TEXT_LIMIT
    if args.jsonl:
        return _lines(args, map_entries(target, args.expr, map_type=args.map_type, limit=limit))
    return Outcome(NAME, map_contents(target, args.expr, map_type=args.map_type, limit=limit, stats=args.stats,
                                      json_limits=wants_json(args)))


def _lines(args: argparse.Namespace, walk: EntryWalk) -> Outcome:
    """--jsonl: the entries written a batch (a group array, a bucket) at a time as they
    are decoded, none kept: a ten-million-entry map in bounded memory."""
    if args.stats:
        raise BadInputError("--stats goes with --json (--jsonl prints only the entries)")

    def produce(emit: Emitter) -> None:
        walk(emit.many)

    return Outcome(NAME, None, document={"expr": args.expr, "entries": Stream(produce)}, lines="entries")
