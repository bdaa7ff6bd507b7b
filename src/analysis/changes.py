"""What a recoding changed in the synthesis: the tables of two versions of the data, compared.

``python -m analysis changes --since REV`` builds the synthesis from the data folder as
it was at git revision ``REV`` (extracted with ``git archive`` into a temporary folder:
the working tree is never touched) and from the working data folder, and lists what
differs, most important first:

1. framework-matrix cells (site x canonical code) whose state, counts or segments changed;
2. GRADE-CERQual findings whose contributing studies, segment counts, coherence flags
   (disagreeing sites) or judgments changed;
3. codebook codes added, removed, renamed or edited;
4. coded segments added, removed or changed (which fields);
5. the shown (clearest) quote of a cell, where it changed;
6. coverage of the results and conclusion paragraphs, per site.

``--old DIR`` compares with an earlier ``reports/tables`` folder (or an earlier data
folder) instead. Both sides are reduced to the tables as they are written (strings),
so a folder of written tables and a freshly computed corpus compare alike.

One row of ``changes.csv`` is one changed field of one thing (see :data:`COLUMNS`);
an added or removed thing is one row with an empty field.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import comparison, coverage, report, synthesis
from analysis.cli import _relative  # a path as the user sees it (below the working directory)
from analysis.coding import segments as segment_table
from analysis.errors import InputError
from analysis.io import atomic_write_text, csv_text
from analysis.paths import Layout
from analysis.sources import Corpus, load_corpus
from analysis.views import one_line

COLUMNS: dict[str, str] = {
    "kind": "what changed, most important first: matrix_cell | cerqual | codebook | segment "
            "| shown_quote | coverage",
    "change": "added | removed | renamed | changed",
    "site": "site slug (empty for cerqual and codebook rows)",
    "item": "the thing changed: canonical code (matrix_cell, shown_quote), finding_id "
            "(cerqual), code (codebook; the new code of a rename), segment_id (segment); "
            "empty for coverage",
    "field": "the column that changed (a column of the table the thing comes from); "
             "empty for an added or removed thing",
    "old": "the value before (as written in the tables); for a removed thing, a short "
           "description; for a rename, the old code",
    "new": "the value after; for an added thing, a short description",
}
"""The columns of ``changes.csv`` (its data dictionary; also printed in changes.md)."""

KINDS = {
    "matrix_cell": ("Framework-matrix cells", ("matrix cell", "matrix cells"), "code"),
    "cerqual": ("CERQual findings", ("CERQual finding", "CERQual findings"), "finding"),
    "codebook": ("Codebook codes", ("code", "codes"), "code"),
    "segment": ("Coded segments", ("segment", "segments"), "segment"),
    "shown_quote": ("Shown (clearest) quotes", ("shown quote", "shown quotes"), "code"),
    "coverage": ("Coverage of results and conclusion paragraphs",
                 ("site's coverage", "sites' coverage"), ""),
}
"""Kinds of change in order of importance: heading in changes.md, noun in the counts,
name of the item column. Within a kind, things are ordered by their most important
changed field (the order of the field lists below), then by site and item."""

MATRIX_FIELDS = ["state", "n_segments", "n_positive", "n_negative", "n_cited_secondary",
                 "segment_ids"]
CERQUAL_FIELDS = ["contributing_sites", "n_studies", "n_segments", "disagreeing_sites",
                  "n_disagreeing_segments", "n_sites_total", "finding", "codes", "valence",
                  "methodological_limitations", "coherence", "adequacy", "relevance",
                  "confidence", "explanation"]
SEGMENT_FIELDS = ["code", "valence", "attribution", "site", "source_id", "start", "end", "quote",
                  "evidence", "section", "informant", "memo"]
DERIVED_SEGMENT_FIELDS = ["canonical_code", "category"]
"""Segment fields that follow from the codebook: reported only when they changed while
the segment's own code did not (a codebook edit moved the segment)."""
SHOWN_FIELDS = ["quote", "segment_id"]
COVERAGE_FIELDS = ["n_paragraphs", "n_coded", "share_coded"]
TABLES = ("segments", "site_code_matrix", "cerqual", "coverage")
"""The written tables a comparison reads (``--old`` with a tables folder)."""


@dataclass
class Side:
    """One version of the synthesis: where it comes from and its tables as written (strings).

    ``tables`` holds segments, site_code_matrix, cerqual, coverage, shown_quotes and
    codebook (``None`` when the side is a tables folder, which holds no codebook).
    """

    label: str
    tables: dict[str, pd.DataFrame | None]


# --------------------------------------------------------------------------- building a side

def as_written(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as its CSV file holds it: every cell a string, empty cells ''."""
    return pd.read_csv(io.StringIO(csv_text(frame)), dtype=str, keep_default_na=False)


def synthesis_tables(corpus: Corpus) -> dict[str, pd.DataFrame]:
    """The tables a comparison needs, computed from a corpus by the functions that
    ``analysis.tables.compute_tables`` calls (the slow agreement and autocode tables
    left out), each as written."""
    sites = corpus.site_ids
    segs = segment_table(corpus)
    findings = synthesis.load_findings(corpus)
    cerqual = (synthesis.cerqual_summary(findings, segs, sites) if findings is not None
               else pd.DataFrame(columns=["finding_id", *CERQUAL_FIELDS]))
    tables = {
        "segments": segs,
        "site_code_matrix": comparison.site_code_matrix(segs, corpus.codebook, sites),
        "cerqual": cerqual,
        "coverage": coverage.coverage_summary(coverage.paragraph_table(corpus), sites),
    }
    tables = {name: as_written(table) for name, table in tables.items()}
    tables["shown_quotes"] = report.shown_quotes(tables["segments"], None)
    book = corpus.codebook[[c for c in corpus.codebook.columns
                            if not c.startswith("_") and c != "canonical_code"]]
    tables["codebook"] = as_written(book)
    return tables


def tables_folder(folder: Path) -> dict[str, pd.DataFrame | None]:
    """The tables of an earlier run: ``folder`` is a ``tables`` folder or the ``reports``
    folder above it. There is no codebook among them (``None``)."""
    if not (folder / "segments.csv").exists() and (folder / "tables" / "segments.csv").exists():
        folder = folder / "tables"
    tables: dict[str, pd.DataFrame | None] = {}
    for name in TABLES:
        path = folder / f"{name}.csv"
        if not path.is_file():
            raise InputError(path, "missing: --old needs a folder of written tables "
                             f"({', '.join(t + '.csv' for t in TABLES)}) or a data folder")
        tables[name] = pd.read_csv(path, dtype=str, keep_default_na=False)
    tables["shown_quotes"] = report.shown_quotes(tables["segments"], None)
    tables["codebook"] = None
    return tables


def is_data_folder(folder: Path) -> bool:
    return (folder / "sites.csv").is_file() and (folder / "codebook.csv").is_file()


def _git(root: Path, *args: str, binary: bool = False) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                              text=not binary, check=False)
    except FileNotFoundError:
        raise ValueError("git is not installed: --since needs git (or use --old DIR)") from None


def git_location(data: Path) -> tuple[Path, Path]:
    """The repository root holding ``data`` and the data folder's path relative to it."""
    if not data.is_dir():
        raise InputError(data, "no such data folder")
    found = _git(data, "rev-parse", "--show-toplevel")
    if found.returncode != 0:
        raise InputError(data, "not inside a git repository, so --since has nothing to "
                         "compare with (use --old DIR with an earlier tables folder)")
    root = Path(found.stdout.strip()).resolve()
    return root, data.resolve().relative_to(root)


def resolve_revision(root: Path, rev: str) -> str:
    """The commit ``rev`` names in the repository at ``root`` (its full hash)."""
    if rev.startswith("-"):  # never an option of git
        raise ValueError(f"'{rev}' is not a git revision")
    found = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if found.returncode != 0:
        raise ValueError(f"'{rev}' is not a revision of the git repository at {root.name}")
    return found.stdout.strip()


@contextmanager
def data_at_revision(data: Path, rev: str):
    """Yield ``(layout, label)``: the data folder as it was at ``rev``, extracted with
    ``git archive`` into a temporary folder removed afterwards; the working tree, the index
    and the repository are only read."""
    root, relative = git_location(data)
    commit = resolve_revision(root, rev)
    path = relative.as_posix()
    listed = _git(root, "ls-tree", "-d", "-z", "--name-only", commit, "--", path)
    if path != "." and listed.stdout.rstrip("\0") != path:
        raise ValueError(f"'{path}' does not exist at revision '{rev}' ({commit[:10]})")
    archive = _git(root, "archive", "--format=tar", commit, *([] if path == "." else [path]),
                   binary=True)
    if archive.returncode != 0:
        message = archive.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ValueError(f"git archive {rev} failed: {message[-1] if message else 'no output'}")
    with tempfile.TemporaryDirectory(prefix="analysis-changes-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tmp, filter="data")
        old = Path(tmp) / relative
        try:
            yield Layout(old, Path(tmp) / "reports"), f"{rev} ({commit[:10]}), {path}/"
        except InputError as exc:
            where = Path(exc.file)
            if where.is_relative_to(tmp):
                where = f"{rev}:{where.relative_to(tmp).as_posix()}"
            raise InputError(where, exc.detail, exc.line, exc.column) from None


def side_of_folder(folder: Path) -> Side:
    """An earlier version given as a folder: a data folder, or written tables."""
    if not folder.is_dir():
        raise InputError(folder, "no such folder (--old takes an earlier reports/tables "
                         "folder or data folder)")
    if is_data_folder(folder):
        return Side(f"{_relative(str(folder))}/ (data)",
                    synthesis_tables(load_corpus(Layout(folder))))
    return Side(f"{_relative(str(folder))}/ (tables)", tables_folder(folder))


# --------------------------------------------------------------------------- comparing

def _rows(kind: str, change: str, site: str, item: str, field: str, old: str,
          new: str) -> dict:
    return {"kind": kind, "change": change, "site": site, "item": item, "field": field,
            "old": old, "new": new}


def keyed_changes(kind: str, old: pd.DataFrame, new: pd.DataFrame, on: list[str],
                  site: str, item: str, fields: list[str], describe) -> list[dict]:
    """One row per field that differs between the rows of ``old`` and ``new`` with the same
    key ``on``, and one per row only one side has (``describe(record, suffix)`` says what
    it was). ``site`` and ``item``: the columns that name the thing (empty: none).
    """
    fields = [f for f in fields if f in old.columns and f in new.columns]
    both = old.merge(new, on=on, how="outer", suffixes=("_old", "_new"), indicator=True)
    rows = []
    for rec in both.to_dict("records"):
        side = "_old" if rec["_merge"] == "left_only" else "_new"
        where = (_get(rec, site, side) if site else "", _get(rec, item, side) if item else "")
        if rec["_merge"] == "left_only":
            rows.append(_rows(kind, "removed", *where, "", describe(rec, "_old"), ""))
        elif rec["_merge"] == "right_only":
            rows.append(_rows(kind, "added", *where, "", "", describe(rec, "_new")))
        else:
            for f in fields:
                before, after = _get(rec, f, "_old"), _get(rec, f, "_new")
                if before != after:
                    rows.append(_rows(kind, "changed", *where, f, before, after))
    return rows


def _get(rec: dict, col: str, suffix: str) -> str:
    value = rec.get(col + suffix, rec.get(col, ""))
    return "" if pd.isna(value) else str(value)


def matrix_changes(old: pd.DataFrame, new: pd.DataFrame) -> list[dict]:
    """Cells (site x canonical code) whose state, counts or segments differ."""
    def describe(rec, s):
        return f"{_get(rec, 'state', s)} ({_get(rec, 'n_segments', s)})"
    return keyed_changes("matrix_cell", old, new, ["site", "code"], "site", "code",
                         MATRIX_FIELDS, describe)


def cerqual_changes(old: pd.DataFrame, new: pd.DataFrame) -> list[dict]:
    """Findings whose computed support or judgments differ."""
    def describe(rec, s):
        return f"{_get(rec, 'finding', s)} ({_get(rec, 'confidence', s)})"
    return keyed_changes("cerqual", old, new, ["finding_id"], "", "finding_id",
                         CERQUAL_FIELDS, describe)


def codebook_renames(old: pd.DataFrame, new: pd.DataFrame) -> dict[str, str]:
    """Old code -> new code for each rename: a code only the old codebook has and a code only
    the new one has, with the same category, the same definition (whitespace folded, not
    empty) and the same parent (a renamed parent counts as the same). Canonical codes are
    matched first; a match that is not one-to-one is no rename."""
    gone = old[~old["code"].isin(new["code"])]
    came = new[~new["code"].isin(old["code"])]
    renames: dict[str, str] = {}
    for canonical in (True, False):
        def signature(row):
            parent = renames.get(row["parent"], row["parent"])
            return (row["category"], parent, one_line(row["definition"]))
        a = gone[(gone["parent"] == "") == canonical]
        b = came[(came["parent"] == "") == canonical]
        old_by = {}
        for row in a.to_dict("records"):
            old_by.setdefault(signature(row), []).append(row["code"])
        new_by = {}
        for row in b.to_dict("records"):
            new_by.setdefault((row["category"], row["parent"], one_line(row["definition"])),
                              []).append(row["code"])
        for sig, codes in old_by.items():
            if sig[2] and len(codes) == 1 and len(new_by.get(sig, [])) == 1:
                renames[codes[0]] = new_by[sig][0]
    return renames


def codebook_changes(old: pd.DataFrame | None, new: pd.DataFrame | None) -> list[dict]:
    """Codes added, removed, renamed (:func:`codebook_renames`) or with edited fields."""
    if old is None or new is None:
        return []
    renames = codebook_renames(old, new)
    fields = [c for c in new.columns if c != "code"]
    # compared under their new names, parents too: a child of a renamed code is not re-parented
    renamed_old = old.assign(code=old["code"].map(lambda c: renames.get(c, c)),
                             parent=old["parent"].map(lambda c: renames.get(c, c)))
    rows = [_rows("codebook", "renamed", "", new_code, "code", old_code, new_code)
            for old_code, new_code in sorted(renames.items(), key=lambda kv: kv[1])]

    def describe(rec, s):
        return f"{_get(rec, 'category', s)}: {_get(rec, 'label_en', s)}"
    rows += keyed_changes("codebook", renamed_old, new, ["code"], "", "code", fields,
                          describe)
    return rows


def segment_changes(old: pd.DataFrame, new: pd.DataFrame) -> list[dict]:
    """Segments (by id) added, removed, or with changed fields; ``canonical_code`` and
    ``category`` only when the code itself did not change."""
    def describe(rec, s):
        return (f"{_get(rec, 'code', s)} ({_get(rec, 'valence', s)}): "
                f"{one_line(_get(rec, 'quote', s))}")
    rows = keyed_changes("segment", old, new, ["segment_id"], "site", "segment_id",
                         SEGMENT_FIELDS + DERIVED_SEGMENT_FIELDS, describe)
    recoded = {r["item"] for r in rows if r["field"] == "code"}
    return [r for r in rows
            if not (r["field"] in DERIVED_SEGMENT_FIELDS and r["item"] in recoded)]


def shown_quote_changes(old: pd.DataFrame, new: pd.DataFrame) -> list[dict]:
    """Cells whose shown quote differs: another text (``quote``), or the same text from
    another segment (``segment_id``, e.g. after renumbering)."""
    def describe(rec, s):
        return f"[{_get(rec, 'segment_id', s)}] {_get(rec, 'quote', s)}"
    return keyed_changes("shown_quote", old, new, ["site", "code"], "site", "code",
                         SHOWN_FIELDS, describe)


def coverage_changes(old: pd.DataFrame, new: pd.DataFrame) -> list[dict]:
    """Sites whose paragraph counts or coded share differ."""
    def describe(rec, s):
        return f"{_get(rec, 'n_coded', s)} of {_get(rec, 'n_paragraphs', s)} paragraphs coded"
    return keyed_changes("coverage", old, new, ["site"], "site", "", COVERAGE_FIELDS,
                         describe)


def compare(old: dict, new: dict) -> pd.DataFrame:
    """Every change from the ``old`` tables to the ``new`` (see :data:`COLUMNS`): most
    important kind first; within a kind, things added, removed or renamed first, then by
    their most important changed field, site and item."""
    rows = (matrix_changes(old["site_code_matrix"], new["site_code_matrix"])
            + cerqual_changes(old["cerqual"], new["cerqual"])
            + codebook_changes(old["codebook"], new["codebook"])
            + segment_changes(old["segments"], new["segments"])
            + shown_quote_changes(old["shown_quotes"], new["shown_quotes"])
            + coverage_changes(old["coverage"], new["coverage"]))
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    kind_rank = {k: i for i, k in enumerate(KINDS)}
    field_rank = {f: i for fields in (MATRIX_FIELDS, CERQUAL_FIELDS, SEGMENT_FIELDS
                                      + DERIVED_SEGMENT_FIELDS, SHOWN_FIELDS, COVERAGE_FIELDS)
                  for i, f in enumerate(fields)}
    table["_kind"] = table["kind"].map(kind_rank)
    # added, removed and renamed things first, then by the most important field changed
    table["_field"] = table["field"].map(field_rank).fillna(-1).where(
        table["change"] == "changed", -1)
    table["_thing"] = table.groupby(["kind", "site", "item"])["_field"].transform("min")
    table = table.sort_values(["_kind", "_thing", "site", "item"], kind="stable")
    return table.drop(columns=["_kind", "_field", "_thing"]).reset_index(drop=True)


# --------------------------------------------------------------------------- reporting

def _md(text: str, limit: int = 160) -> str:
    text = one_line(text)
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    return text.replace("|", "\\|")


def _ids_delta(old: str, new: str) -> str:
    a, b = set(filter(None, old.split(";"))), set(filter(None, new.split(";")))
    parts = [f"+{s}" for s in sorted(b - a)] + [f"−{s}" for s in sorted(a - b)]
    return " ".join(parts)


def excerpts(old: str, new: str, context: int = 30, limit: int = 120) -> tuple[str, str]:
    """The differing middle of two long texts with ``context`` characters either side
    (common start and end cut, marked …); short texts whole."""
    old, new = one_line(old), one_line(new)
    if max(len(old), len(new)) <= limit:
        return old, new
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while (tail < min(len(old), len(new)) - head
           and old[len(old) - 1 - tail] == new[len(new) - 1 - tail]):
        tail += 1
    start = max(head - context, 0)

    def cut(text):
        end = min(len(text) - tail + context, len(text))
        part = text[start:end]
        part = part if len(part) <= limit else part[:limit - 1] + "…"
        return ("…" if start else "") + part + ("…" if end < len(text) else "")
    return cut(old), cut(new)


def describe_group(group: pd.DataFrame) -> str:
    """One thing's changes in one line: ``field old → new; ...``."""
    first = group.iloc[0]
    if first["change"] == "added":
        return f"added: {first['new']}"
    if first["change"] == "removed":
        return f"removed: {first['old']}"
    parts = []
    for row in group.itertuples():
        if row.change == "renamed":
            parts.append(f"renamed from {row.old}")
        elif row.field == "segment_ids":
            parts.append(f"segments {_ids_delta(row.old, row.new)}")
        else:
            before, after = excerpts(row.old, row.new)
            parts.append(f"{row.field} {before or '(empty)'} → {after or '(empty)'}")
    return "; ".join(parts)


def _groups(changes: pd.DataFrame):
    """(kind, site, item, rows) per changed thing, in the table's order."""
    keys = list(zip(changes["kind"], changes["site"], changes["item"]))
    positions: dict[tuple, list[int]] = {}
    for i, key in enumerate(keys):
        positions.setdefault(key, []).append(i)
    for key, rows in positions.items():
        yield (*key, changes.iloc[rows])


def counts(changes: pd.DataFrame) -> dict[str, int]:
    """Changed things (not fields) per kind."""
    things = changes.drop_duplicates(["kind", "site", "item"])
    return {kind: int((things["kind"] == kind).sum()) for kind in KINDS}


def count_phrase(changes: pd.DataFrame) -> str:
    return ", ".join(f"{n} {KINDS[kind][1][n != 1]}" for kind, n in counts(changes).items()
                     if n)


def changes_markdown(changes: pd.DataFrame, old: Side, new: Side) -> str:
    """The readable report: one section per kind of change, most important first."""
    lines = ["# What changed in the synthesis", "",
             f"- old: {old.label}", f"- new: {new.label}", ""]
    if changes.empty:
        lines += ["No changes: the framework matrix, CERQual findings, codebook, segments, "
                  "shown quotes and coverage are the same.", ""]
    else:
        lines += [f"Changed: {count_phrase(changes)}. `changes.csv` holds one row per "
                  "changed field (columns below).", ""]
    if old.tables.get("codebook") is None or new.tables.get("codebook") is None:
        lines += ["The codebook was not compared: a tables folder holds no codebook.", ""]
    by_kind: dict[str, list] = {kind: [] for kind in KINDS}
    for kind, site, item, group in _groups(changes):
        by_kind[kind].append((site, item, group))
    for kind, entries in by_kind.items():
        if not entries:
            continue
        heading, _, item_name = KINDS[kind]
        header = [c for c in ("site" if kind not in ("cerqual", "codebook") else "",
                              item_name) if c] + ["change"]
        lines += [f"## {heading} ({len(entries)})", "", "| " + " | ".join(header) + " |",
                  "|" + "---|" * len(header)]
        for site, item, group in entries:
            cells = [c for c, shown in ((site, "site" in header), (item, bool(item_name)))
                     if shown] + [_md(describe_group(group), 600)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## Columns of changes.csv", "", "| column | description |", "|---|---|"]
    lines += [f"| `{c}` | {_md(d, 1000)} |" for c, d in COLUMNS.items()]
    lines.append("")
    return "\n".join(lines)


def summary(changes: pd.DataFrame, old: Side, new: Side, per_kind: int = 4) -> str:
    """The printed summary: what was compared, counts per kind, the first few changes of
    each kind."""
    if changes.empty:
        return f"no changes from {old.label} to {new.label}"
    lines = [f"changes from {old.label} to {new.label}: {count_phrase(changes)}"]
    shown, total = dict.fromkeys(KINDS, 0), counts(changes)
    for kind, site, item, group in _groups(changes):
        shown[kind] += 1
        if shown[kind] <= per_kind:
            text = describe_group(group)
            where = "/".join(filter(None, [site, item]))
            lines.append(f"  {kind:<12} {where}: "
                         f"{text if len(text) <= 150 else text[:149] + '…'}")
        elif shown[kind] == total[kind]:
            lines.append(f"  {kind:<12} ... and {shown[kind] - per_kind} more")
    return "\n".join(lines)


def write_changes(changes: pd.DataFrame, markdown: str, out: Path) -> list[Path]:
    """``OUT/changes/changes.md`` and ``changes.csv``, each written atomically."""
    folder = out / "changes"
    return [atomic_write_text(folder / "changes.md", markdown),
            atomic_write_text(folder / "changes.csv", csv_text(changes))]


def run(layout: Layout, since: str | None = None, old_dir: Path | None = None
        ) -> tuple[pd.DataFrame, str, list[Path]]:
    """Compare the working data under ``layout.data`` with revision ``since`` (or the folder
    ``old_dir``), write the report under ``layout.out`` and return (changes, summary,
    written). Both sides are built before anything is written."""
    if (since is None) == (old_dir is None):
        raise ValueError("give exactly one of --since REV and --old DIR")
    if since is not None:
        with data_at_revision(layout.data, since) as (old_layout, label):
            old = Side(label, synthesis_tables(load_corpus(old_layout)))
        where = label.split(", ", 1)[1]
    else:
        old = side_of_folder(Path(old_dir))
        where = f"{_relative(str(layout.data))}/"
    new = Side(f"working data, {where}", synthesis_tables(load_corpus(layout)))
    changes = compare(old.tables, new.tables)
    written = write_changes(changes, changes_markdown(changes, old, new), layout.out)
    return changes, summary(changes, old, new), written
