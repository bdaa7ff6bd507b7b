"""The command line: ``python -m analysis <command> [--data DIR] [--out DIR]``.

Every command reads the corpus under ``--data`` (default: the kit's ``data/``)
and writes under ``--out`` (default: the kit's ``reports/``), so the same code
runs on another corpus. A bad input ends the command with a one-line error on
standard error and exit status 1, never a traceback: an
:class:`~analysis.errors.InputError` (file, line, column), a stage's plain
``ValueError``, or an ``OSError`` (a folder, a file it may not read or write),
which is reported with the path it concerns. An
:class:`~analysis.errors.InputWarning` (valid input that is probably not what
was meant) is printed as one ``warning:`` line and the command goes on.
Commands import their stage lazily so that ``--help`` and ``validate`` start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from analysis.errors import InputWarning, one_line
from analysis.paths import DEFAULT_DATA, DEFAULT_OUT, Layout

COMMANDS: dict[str, tuple[str, callable]] = {}


def command(name: str, help: str):
    """Register ``fn(subparser)`` as the builder of command ``name``."""
    def wrap(fn):
        COMMANDS[name] = (help, fn)
        return fn
    return wrap


def layout_of(args: argparse.Namespace) -> Layout:
    return Layout.of(args.data, args.out)


@command("validate", "check every input file and print a verdict per file")
def _validate(p: argparse.ArgumentParser):
    def run(args):
        from analysis.validation import validate
        verdicts = [(_relative(f), v) for f, v in validate(layout_of(args))]
        width = max((len(f) for f, _ in verdicts), default=0)
        failed = 0
        for file, verdict in verdicts:
            print(f"{file:<{width}}  {verdict}")
            failed += not verdict.startswith("ok")
        print(f"{len(verdicts) - failed} of {len(verdicts)} files valid")
        return 1 if failed else 0
    p.set_defaults(run=run)


@command("tables", "write the tidy tables and their data dictionary to OUT/tables")
def _tables(p: argparse.ArgumentParser):
    def run(args):
        from analysis.tables import build_tables
        written = build_tables(layout_of(args), progress=not args.quiet)
        print(f"wrote {len(written)} tables to {layout_of(args).tables_dir}")
        return 0
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(run=run)


@command("coverage", "share of results and conclusion paragraphs with a coded segment")
def _coverage(p: argparse.ArgumentParser):
    def run(args):
        from analysis.coverage import coverage_report
        print(coverage_report(layout_of(args), show_uncoded=not args.summary))
        return 0
    p.add_argument("--summary", action="store_true", help="figures only, no uncoded paragraphs")
    p.set_defaults(run=run)


@command("notebooks", "execute the site and cross-site notebooks with papermill")
def _notebooks(p: argparse.ArgumentParser):
    def run(args):
        from analysis.notebooks import run_all
        return run_all(layout_of(args), jobs=args.jobs, sites=args.site)
    p.add_argument("--jobs", type=int, default=0, help="parallel kernels (default: one per core)")
    p.add_argument("--site", action="append", help="only this site (repeatable)")
    p.set_defaults(run=run)


@command("report", "build OUT/comparison.pdf from the tables and figures")
def _report(p: argparse.ArgumentParser):
    def run(args):
        from analysis.report import build_report
        path = build_report(layout_of(args))
        print(f"wrote {path}")
        return 0
    p.set_defaults(run=run)


@command("changes", "what a recoding changed in the synthesis: matrix cells, CERQual "
                    "findings, codes, segments, shown quotes, coverage -> OUT/changes/")
def _changes(p: argparse.ArgumentParser):
    def run(args):
        from analysis.changes import run as compare
        changes, summary, written = compare(layout_of(args), since=args.since, old_dir=args.old)
        print(summary)
        if not changes.empty:
            print(f"wrote {', '.join(_relative(str(w)) for w in written)}")
        return 0
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--since", metavar="REV", help="compare with the data folder at git "
                                                      "revision REV (e.g. HEAD, main, a tag)")
    which.add_argument("--old", type=Path, metavar="DIR",
                       help="compare with an earlier reports/tables folder (or data folder)")
    p.set_defaults(run=run)


def _relative(path: str) -> str:
    """A path relative to the working directory when it lies below it."""
    try:  # absolute without following links: a link is named, not its target
        return str(Path(os.path.abspath(path)).relative_to(Path.cwd()))
    except (ValueError, OSError):  # elsewhere
        return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        description="Cross-site synthesis kit: validate the corpus, build tables, "
                    "notebooks and the comparison PDF.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data", type=Path, default=DEFAULT_DATA, metavar="DIR",
                        help="corpus folder (default: the kit's data/)")
    common.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help="output folder (default: the kit's reports/)")
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    _register_extensions()
    for name, (help_text, build) in COMMANDS.items():
        build(sub.add_parser(name, help=help_text, description=help_text, parents=[common]))
    return parser


def _register_extensions() -> None:
    """Commands registered by light ``cli_<stage>`` modules (stdlib imports only;
    the stage itself is imported when the command runs)."""
    import importlib
    for module in ("analysis.cli_exchange", "analysis.cli_agreement", "analysis.cli_newsite"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 0
    shown: set[str] = set()

    def show_warning(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, InputWarning):
            if str(message) not in shown:
                shown.add(str(message))
                print(f"warning: {message}", file=sys.stderr, flush=True)
        else:
            default_show(message, category, filename, lineno, file, line)

    default_show = warnings.showwarning
    warnings.showwarning = show_warning
    try:
        return int(args.run(args) or 0)
    except ValueError as exc:  # InputError (file, line, column) or a stage's plain ValueError
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return 1
    except OSError as exc:  # an input or output the system refuses: name the path
        print(f"error: {os_error(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = default_show


def os_error(exc: OSError) -> str:
    """An ``OSError`` as one line naming its path(s): ``PATH: reason``."""
    reason = exc.strerror or str(exc)
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    return one_line(f"{' -> '.join(paths)}: {reason}" if paths else reason)
