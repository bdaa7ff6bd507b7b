"""``python -m analysis qdpx export|export-codebook|import|import-coding``: REFI-QDA exchange.

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


def _reading(parser: argparse.ArgumentParser) -> None:
    """How to read the tool's positions and texts (see docs/exchange.md)."""
    parser.add_argument("--positions", choices=("auto", "codepoints", "utf16"), default="auto",
                        help="what startPosition/endPosition count (default: auto-detect)")
    parser.add_argument("--bom", choices=("auto", "skip", "count"), default="auto",
                        help="whether a byte-order mark at the start of a text counts as "
                             "position 0 (default: auto-detect)")
    parser.add_argument("--newlines", choices=("auto", "keep", "lf"), default="auto",
                        help="whether a CRLF counts as two positions as stored (keep) or as "
                             "one (lf) (default: auto-detect)")
    parser.add_argument("--encoding", default=None, metavar="NAME",
                        help="encoding of source files without a byte-order mark "
                             "(default: UTF-8)")
    parser.add_argument("--max-member-bytes", type=int, default=200_000_000, metavar="N",
                        help="refuse archive members larger than N bytes uncompressed "
                             "(default: 200000000)")


def _read_options(args) -> dict:
    return dict(positions=args.positions, max_member_bytes=args.max_member_bytes,
                bom=args.bom, newlines=args.newlines, encoding=args.encoding)


def _import_coding(args) -> int:
    import sys
    from analysis.importcoding import ImportRefused, import_coding
    try:
        result = import_coding(layout_of(args), args.file, code_map=args.code_map,
                               site_map=args.site_map, user=args.user, second=args.second,
                               replace=args.replace, sites=args.site,
                               **_read_options(args))
    except ImportRefused as exc:
        for line in exc.details:
            print(f"  {line}", file=sys.stderr)
        raise
    for line in result.report:
        print(line)
    print(f"report: {result.report_path}")
    if result.review:
        print(f"{result.review} rows need review: status 'suggested' until you check them "
              "and set 'accepted' (see the memo of each)")
    return 0


@command("qdpx", "REFI-QDA exchange (NVivo, ATLAS.ti, MAXQDA, QualCoder): export, "
                 "export-codebook, import, import-coding")
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
    _reading(imp)
    _common(imp)

    coding = actions.add_parser(
        "import-coding", help="turn a .qdpx coded in another tool into coding sheets",
        description="Turn one user's codings in a REFI-QDA project into validated coding "
                    "sheets DATA/coding/<site>.csv (DATA/second_coding/<site>.csv with "
                    "--second). Sources are matched to sites by their text, codes to the "
                    "codebook by GUID, path, id or label; valence, evidence, attribution, "
                    "informant and section follow the convention of the kit's code tree "
                    "(docs/exchange.md). Refusals write nothing but templates to fill in "
                    "(OUT/exchange/<file>-code-map-template.csv); the import report goes to "
                    "OUT/exchange/<file>-import-coding.txt.")
    coding.add_argument("file", type=Path, metavar="FILE.qdpx", help="the project to read")
    coding.add_argument("--code-map", type=Path, metavar="CSV",
                        help="tool code path -> kit code (columns tool_code, kit_code)")
    coding.add_argument("--site-map", type=Path, metavar="CSV",
                        help="source name -> site or source_id (columns source, site), for "
                             "sources whose text is not a raw text of sources.csv")
    coding.add_argument("--user", metavar="NAME",
                        help="the coder whose codings to import (name or GUID); required "
                             "when the project holds several")
    coding.add_argument("--second", action="store_true",
                        help="write DATA/second_coding/<site>.csv (a second coder)")
    coding.add_argument("--replace", action="store_true",
                        help="replace existing sheets of the imported sites")
    coding.add_argument("--site", action="append", metavar="SITE",
                        help="write only this site's sheet (repeatable; default: every site "
                             "with codings)")
    _reading(coding)
    _common(coding)

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
        elif action == "import-coding":
            return _import_coding(args)
        else:
            out = args.out
            if Path(out) == DEFAULT_OUT:
                out = DEFAULT_OUT / "exchange" / Path(args.file).stem
            project = exchange.read_qdpx(args.file, **_read_options(args))
            for line in project.assumptions:
                print(f"assumed: {line}")
            exchange.write_import(project, out, args.file)
            print(f"wrote {len(project.segments)} coded segments ({len(project.sources)} "
                  f"sources, {len(project.codes)} codes, {len(project.cases)} cases) to {out}")
        return 0

    p.set_defaults(run=run)
