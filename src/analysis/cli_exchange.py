"""``python -m analysis qdpx export|export-codebook|import``: REFI-QDA exchange.

Light module: standard library only; :mod:`analysis.exchange` is imported when a
command runs. See docs/exchange.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis.cli import command, layout_of
from analysis.paths import DEFAULT_OUT


def _common(parser: argparse.ArgumentParser) -> None:
    # Also accepted after the action; SUPPRESS keeps the value given before it.
    parser.add_argument("--data", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                        help="corpus folder (default: the kit's data/)")
    parser.add_argument("--out", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                        help="output folder (see the action's description)")


@command("qdpx", "REFI-QDA exchange (NVivo, ATLAS.ti, MAXQDA, QualCoder): export, "
                 "export-codebook, import")
def _qdpx(p: argparse.ArgumentParser):
    actions = p.add_subparsers(dest="qdpx_action", metavar="<action>")

    export = actions.add_parser(
        "export", help="write the corpus and its coding as a .qdpx project",
        description="Validate the corpus and write it as a REFI-QDA project: code tree, "
                    "sites as cases, raw texts as sources, segments as coded selections "
                    "(positions in code points), memos as notes.")
    export.add_argument("file", nargs="?", type=Path, metavar="FILE.qdpx",
                        help="where to write (default: OUT/exchange/kit.qdpx)")
    _common(export)

    codebook = actions.add_parser(
        "export-codebook", help="write the codebook as a .qdc file",
        description="Validate the codebook and write it as a REFI-QDA codebook (.qdc).")
    codebook.add_argument("file", nargs="?", type=Path, metavar="FILE.qdc",
                          help="where to write (default: OUT/exchange/kit.qdc)")
    _common(codebook)

    imp = actions.add_parser(
        "import", help="read a .qdpx from any tool into segments.csv, codes.csv, cases.csv",
        description="Read a REFI-QDA project (untrusted input) into --out DIR: "
                    "segments.csv, codes.csv, cases.csv, sources.csv, sources/*.txt and "
                    "import_report.txt, with code-point offsets (text == source[start:end]). "
                    "What a tool's positions count is detected unless given. "
                    "Default DIR: reports/exchange/<file name without .qdpx>.")
    imp.add_argument("file", type=Path, metavar="FILE.qdpx", help="the project to read")
    imp.add_argument("--positions", choices=("auto", "codepoints", "utf16"), default="auto",
                     help="what startPosition/endPosition count (default: auto-detect)")
    imp.add_argument("--bom", choices=("auto", "skip", "count"), default="auto",
                     help="whether a byte-order mark at the start of a text counts as "
                          "position 0 (default: auto-detect)")
    imp.add_argument("--newlines", choices=("auto", "keep", "lf"), default="auto",
                     help="whether a CRLF counts as two positions as stored (keep) or as "
                          "one (lf) (default: auto-detect)")
    imp.add_argument("--encoding", default=None, metavar="NAME",
                     help="encoding of source files without a byte-order mark (default: UTF-8)")
    imp.add_argument("--max-member-bytes", type=int, default=200_000_000, metavar="N",
                     help="refuse archive members larger than N bytes uncompressed "
                          "(default: 200000000)")
    _common(imp)

    def run(args):
        action = getattr(args, "qdpx_action", None)
        if action is None:
            p.print_help()
            return 2
        from analysis import exchange
        if action == "export":
            path = exchange.export_qdpx(layout_of(args), args.file)
            print(f"wrote {path}")
        elif action == "export-codebook":
            path = exchange.export_codebook(layout_of(args), args.file)
            print(f"wrote {path}")
        else:
            out = args.out
            if Path(out) == DEFAULT_OUT:
                out = DEFAULT_OUT / "exchange" / Path(args.file).stem
            project = exchange.read_qdpx(args.file, positions=args.positions,
                                         max_member_bytes=args.max_member_bytes,
                                         bom=args.bom, newlines=args.newlines,
                                         encoding=args.encoding)
            for line in project.assumptions:
                print(f"assumed: {line}")
            exchange.write_import(project, out, args.file)
            print(f"wrote {len(project.segments)} coded segments ({len(project.sources)} "
                  f"sources, {len(project.codes)} codes, {len(project.cases)} cases) to {out}")
        return 0

    p.set_defaults(run=run)
