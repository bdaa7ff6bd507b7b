"""``python -m analysis agreement``: inter-coder agreement of ratings, a REFI-QDA
project or two coding sheets (see ``docs/agreement.md``).

Light module: stdlib imports only; the statistics are imported when the command runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from analysis.cli import command, layout_of


def _out_file(args: argparse.Namespace, default_name: str) -> Path:
    """``--out FILE.csv`` names the table; otherwise it goes to OUT/agreement/<default_name>."""
    out = Path(args.out)
    if out.suffix.lower() == ".csv":
        return out
    return layout_of(args).out / "agreement" / default_name


def _fmt(value, digits: int = 3) -> str:
    import math
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def _print_table(frame) -> None:
    import pandas as pd
    shown = frame.copy()
    for column in shown.columns:
        if pd.api.types.is_float_dtype(shown[column]):
            shown[column] = [_fmt(v) for v in shown[column]]
    print(shown.to_string(index=False))


def _ratings(args) -> int:
    from analysis.agreement import (COHEN_INTERVAL, agreement_table, ratings_summary,
                                    read_ratings)
    ratings = read_ratings(args.ratings)
    if args.json:
        summary = ratings_summary(ratings, resamples=args.resamples, seed=args.seed)
        print(json.dumps(summary, indent=2, ensure_ascii=False))
        return 0
    table = agreement_table(ratings, resamples=args.resamples, seed=args.seed)
    print(f"{args.ratings}: {ratings['unit'].nunique()} units, {ratings['coder'].nunique()} "
          f"coders, {len(ratings)} ratings")
    rows = []
    for row in table.itertuples():
        ci = "" if row.ci_low != row.ci_low else f"[{_fmt(row.ci_low)}, {_fmt(row.ci_high)}]"
        rows.append((row.statistic, _fmt(row.value), ci, str(row.n_units), row.note))
    header = ("statistic", "value", "95% CI", "n_units", "note")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for r in [header, *rows]:
        print("  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4])
    print(f"(alpha CI: percentile bootstrap, {args.resamples} samples of units, seed "
          f"{args.seed}; Cohen CI: {COHEN_INTERVAL})")
    return 0


def _qdpx(args) -> int:
    from analysis.agreement import (character_agreement, character_summary,
                                    presence_agreement)
    from analysis.errors import InputError
    from analysis.exchange import read_qdpx
    from analysis.io import write_csv
    if not args.coders or len(args.coders) != 2:
        raise InputError(args.qdpx, "--qdpx needs --coders A B (two user names or GUIDs)")
    project = read_qdpx(args.qdpx)
    lengths = {name: len(text) for name, text in project.sources.items()}
    try:
        table = character_agreement(project.segments, lengths, *args.coders)
    except ValueError as exc:
        raise InputError(args.qdpx, str(exc)) from None
    presence = presence_agreement(table)
    out = _out_file(args, "characters.csv")
    presence_out = out.with_name(f"{out.stem}_presence.csv")
    write_csv(table, out)
    write_csv(presence, presence_out)
    if args.json:
        print(json.dumps({"characters": _records(character_summary(table)),
                          "presence": _records(presence)}, indent=2, ensure_ascii=False))
    else:
        a, b = args.coders
        print(f"{args.qdpx}: coder A = {a}, coder B = {b}, {len(lengths)} sources, "
              f"{table['code'].nunique()} codes")
        print("\ncharacter-level agreement per code (characters pooled over sources):")
        _print_table(character_summary(table))
        print("\npresence agreement per code (unit: source; did the coder use the code):")
        _print_table(presence)
    print(f"\nwrote {out} and {presence_out}")
    return 0


def _pair_name(paths: list[Path]) -> str:
    """The pair of sheets in a file name, so each pair gets its own file: ``manoi`` for
    data/coding/manoi.csv and data/second_coding/manoi.csv, else ``a_vs_b``."""
    a, b = paths[0].stem, paths[1].stem
    return a if a == b else f"{a}_vs_{b}"


def _records(frame) -> list[dict]:
    import math
    rows = frame.to_dict(orient="records")
    return [{k: (None if isinstance(v, float) and math.isnan(v) else
                 v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in rows]


def _sheets(args) -> int:
    from analysis.agreement import check_same_texts, sentence_agreement
    from analysis.errors import InputError
    from analysis.io import write_csv
    from analysis.schema import read_table
    from analysis.sources import (CODING, check_codes, check_spans, load_codebook, load_sources,
                                  load_texts, present, read_raw_text)
    from analysis.text import corpus_sentences
    paths = [Path(p) for p in args.sheets]
    sheets = []
    for path in paths:
        sheet = read_table(path, CODING)
        sheets.append(sheet[sheet["status"] != "rejected"].reset_index(drop=True))
    check_same_texts(paths[0], sheets[0], paths[1], sheets[1])
    used = sorted(set().union(*(set(s["source_id"]) for s in sheets)))
    layout = layout_of(args)
    if args.text:
        if len(used) > 1:
            raise InputError(paths[0], f"--text gives one text but the sheets code sources "
                             f"{', '.join(used)} (use --data DIR instead)", column="source_id")
        text = read_raw_text(Path(args.text))
        texts = {used[0] if used else "text": text}
    else:
        texts = load_texts(layout, load_sources(layout))
    for path, sheet in zip(paths, sheets):
        check_spans(path, sheet, texts)
    # the sheets of a corpus follow its codebook; --by category needs one in any case
    needed = args.by != "code" or (not args.text and present(layout.codebook_csv))
    codebook = load_codebook(layout) if needed else None
    if codebook is not None:
        for path, sheet in zip(paths, sheets):
            check_codes(path, sheet, codebook)
    sentences = corpus_sentences({sid: texts[sid] for sid in used})
    try:
        table = sentence_agreement(sheets[0], sheets[1], sentences, by=args.by,
                                   codebook=codebook)
    except ValueError as exc:  # codes were checked above: what is left is about --by
        raise InputError("--by", str(exc)) from None
    out = _out_file(args, f"{_pair_name(paths)}_sentences_by_{args.by}.csv")
    write_csv(table, out)
    if args.json:
        print(json.dumps(_records(table), indent=2, ensure_ascii=False))
    else:
        print(f"A (reference) = {paths[0]}, B = {paths[1]}: {len(sentences)} sentences in "
              f"{len(used)} source(s), unit = sentence x {args.by}")
        _print_table(table)
    print(f"wrote {out}")
    return 0


@command("agreement", "inter-coder agreement: ratings, a REFI-QDA project or two coding sheets")
def _agreement(p: argparse.ArgumentParser):
    p.epilog = ("--out FILE.csv names the output table (--qdpx, --sheets); any other --out is "
                "the output folder, and the table goes to OUT/agreement/.")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--ratings", type=Path, metavar="FILE.csv",
                      help="long-form ratings: columns unit, coder, value")
    what.add_argument("--qdpx", type=Path, metavar="FILE.qdpx",
                      help="a REFI-QDA project coded by two users (see --coders)")
    what.add_argument("--sheets", nargs=2, type=Path, metavar=("A.csv", "B.csv"),
                      help="two coding sheets of one site (A is the reference)")
    p.add_argument("--coders", nargs=2, metavar=("A", "B"),
                   help="with --qdpx: the two users (names or GUIDs)")
    p.add_argument("--text", type=Path, metavar="RAW.txt",
                   help="with --sheets: the raw text coded (default: the sources of --data)")
    p.add_argument("--by", default="code",
                   help="with --sheets: 'code' (default), 'category' or 'canonical_code'")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--resamples", type=int, default=1000, metavar="N",
                   help="bootstrap samples for the alpha interval (default 1000)")
    p.add_argument("--seed", type=int, default=20261123, help="bootstrap seed (default 20261123)")

    def run(args):
        if args.ratings:
            return _ratings(args)
        if args.qdpx:
            return _qdpx(args)
        return _sheets(args)

    p.set_defaults(run=run)
