"""Text for `map`: a header line, one `key: value` line per entry (Go-like literals),
what was left out, and with --stats the structure."""

from __future__ import annotations

from godbg.render.table import table
from godbg.render.theme import Theme
from godbg.results.maps import ClassicStats, MapContents, MapStats, SwissStats
from godbg.values.text import format_text

# Keys and values are cut after this many characters on an entry line.
MAX_VALUE_CHARS = 200


def render(contents: MapContents, theme: Theme) -> str:
    count = contents.count
    where = f", at {contents.address:#x}" if contents.address is not None else ", nil"
    header = (f"{theme.heading(contents.expr)}  {contents.type}  "
              f"({contents.impl}, {theme.number(str(count))} {'entry' if count == 1 else 'entries'}{where})")
    lines = [header]
    rows = [(theme.func(format_text(k, MAX_VALUE_CHARS)) + ":", format_text(v, MAX_VALUE_CHARS))
            for k, v in contents.entries]
    if rows:
        lines.append(table(rows))
    if contents.truncated:
        more = max(count - len(contents.entries), 0) or "more"
        lines.append(theme.location(f"… {more} more not shown (--limit 0 shows all)"))
    if contents.stats is not None:
        lines.append(render_stats(contents.stats, theme))
    return "\n".join(lines)


def render_stats(stats: MapStats, theme: Theme) -> str:
    if isinstance(stats, ClassicStats):
        rows = _classic_rows(stats)
    elif isinstance(stats, SwissStats):
        rows = _swiss_rows(stats)
    else:
        rows = [("nil", _yes(True))]
    out = [theme.heading("structure"), table([(theme.location(k), v) for k, v in rows])]
    if isinstance(stats, SwissStats) and stats.tables:
        head = ["table", "capacity", "used", "growth_left", "local_depth", "tombstones"]
        trows = [[f"{t.address:#x}", *(str(n) for n in (t.capacity, t.used, t.growth_left, t.local_depth,
                                                          t.tombstones))] for t in stats.tables]
        out.append(table(trows, header=head, right=(1, 2, 3, 4, 5)))
    return "\n".join(out)


def _classic_rows(s: ClassicStats) -> list[tuple[str, str]]:
    tophash = s.tophash
    return [
        ("B", str(s.b)), ("buckets", str(s.buckets)), ("overflow_buckets", str(s.overflow_buckets)),
        ("noverflow", str(s.noverflow)), ("load_factor", str(s.load_factor)), ("growing", _yes(s.growing)),
        ("old_buckets", str(s.old_buckets)), ("old_overflow_buckets", str(s.old_overflow_buckets)),
        ("evacuated", str(s.evacuated)), ("nevacuate", str(s.nevacuate)),
        ("same_size_grow", _yes(s.same_size_grow)), ("writing", _yes(s.writing)), ("iterating", _yes(s.iterating)),
        ("indirect_key", _yes(s.indirect_key)), ("indirect_elem", _yes(s.indirect_elem)),
        ("tophash", f"empty: {tophash.empty}, evacuated: {tophash.evacuated}, full: {tophash.full}"),
        ("chain_lengths", ", ".join(f"{length}: {n}" for length, n in s.chain_lengths) or "-"),
    ]


def _swiss_rows(s: SwissStats) -> list[tuple[str, str]]:
    # The tables get a table of their own.
    return [
        ("small", _yes(s.small)), ("dir_len", str(s.dir_len)), ("global_depth", str(s.global_depth)),
        ("groups", str(s.groups)), ("tombstones", str(s.tombstones)), ("load_factor", str(s.load_factor)),
        ("writing", _yes(s.writing)), ("indirect_key", _yes(s.indirect_key)),
        ("indirect_elem", _yes(s.indirect_elem)), ("split_group", _yes(s.split_group)),
    ]


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
