"""A site's to-do list: what a site added with ``new-site`` still lacks.

``python -m analysis site-status SLUG [--data DIR]`` prints one line per thing to do
and exits 1, or prints ``nothing to do`` and exits 0. :func:`site_status` returns the
list: one row per item, columns ``kind`` (the order below), ``where`` (file, with line
where there is one) and ``what``.

1. ``metadata`` -- a field of the site's row in ``sites.csv`` or of its case study's
   row in ``sources.csv`` that is empty while the row's ``notes`` do not say the text
   lacks it (the convention: a field the text does not give stays empty and the notes say
   so, e.g. "Year, venue ... not given in the text"; the same rule,
   :func:`analysis.views.missing_wording`, makes the report print "not yet recorded"
   rather than "not given in the text"); and notes that still hold new-site's placeholder.
2. ``suggestions`` -- rows of ``coding/<site>.csv`` with status ``suggested`` (not yet
   accepted or rejected), and a site with no accepted coding at all.
3. ``appraisal`` -- no ``appraisal/<site>.csv`` (CASP), when the corpus has
   ``casp_questions.csv``.
4. ``memo`` -- no coding memo ``<site>.md`` in :attr:`analysis.paths.Layout.memo_dir`:
   ``docs/coding/`` beside the data folder (for ``--data DIR``: ``DIR/../docs/coding``),
   the folder the site notebook reads its ``## Main points`` from; and each results or
   conclusion paragraph without accepted coding whose first three words the memo does
   not quote (the convention: the memo says why a paragraph is not coded).
5. ``glosses`` -- quotes of the site the report shows without an English gloss
   (:func:`analysis.report.needed_glosses`).
6. ``cerqual`` -- CERQual findings whose judgment needs review for this site: when
   ``cerqual.csv`` records the sites each judgment was made on (column
   :data:`JUDGED_SITES_COLUMN`), the findings whose computed contributing sites and
   recorded sites differ on this site; otherwise the findings the site contributes to
   whose explanation does not name it (by slug or office name).
7. ``notebooks`` -- for the kit's own data only (the committed notebooks show it):
   a committed notebook whose stored outputs do not mention the site
   (``make refresh-notebooks``). This is a presence check, not a freshness proof:
   after any later data change nbval (``make test``) is the judge.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path

import pandas as pd

from analysis.errors import InputError
from analysis.paths import DEFAULT_DATA, NOTEBOOKS, Layout
from analysis.schema import records
from analysis.views import NOT_RECORDED, missing_wording, site_names

KINDS = ("metadata", "suggestions", "appraisal", "memo", "glosses", "cerqual", "notebooks")
COLUMNS = ["kind", "where", "what"]
SITE_FIELDS = ("name", "admin_level", "parent", "province", "unit_studied", "design", "methods",
               "informants", "analysis", "framework")
SOURCE_FIELDS = ("title", "authors", "year", "venue")
PLACEHOLDER = "added by new-site"
"""The words new-site's notes begin with: while they are there, the row is not reviewed."""
JUDGED_SITES_COLUMN = "judged_sites"
"""The column of cerqual.csv recording the sites each judgment was made on (';'-separated)."""
COMMITTED_NOTEBOOKS = ("cross_site.ipynb",)
"""Committed notebooks whose outputs show every site."""


def _item(kind: str, where: str, what: str) -> dict[str, str]:
    return {"kind": kind, "where": where, "what": what}


def empty_fields(row: dict[str, str], fields: tuple[str, ...]) -> list[str]:
    """The fields of a row that are empty and that the report would show as "not yet
    recorded": their notes do not say the text lacks them (:func:`views.missing_wording`,
    the rule the PDF and notebooks use). New-site's placeholder notes excuse none."""
    notes = row.get("notes", "")
    notes = "" if PLACEHOLDER in notes else notes
    return [f for f in fields
            if not row.get(f, "").strip() and missing_wording(f, notes) == NOT_RECORDED]


def metadata_items(layout: Layout, corpus, site: str) -> list[dict[str, str]]:
    items = []
    for table, path, fields, frame in (
            ("sites", layout.sites_csv, SITE_FIELDS, corpus.sites[corpus.sites["site"] == site]),
            ("sources", layout.sources_csv, SOURCE_FIELDS,
             corpus.sources[(corpus.sources["site"] == site)
                            & (corpus.sources["kind"] == "case_study")])):
        for row in frame.to_dict("records"):
            where = f"{path}:{row['_line']}"
            if PLACEHOLDER in row.get("notes", ""):
                items.append(_item("metadata", where, f"notes still hold new-site's placeholder "
                                   f"('{PLACEHOLDER} ...'): say what the text does not give"))
            empty = empty_fields(row, fields)
            if empty:
                items.append(_item("metadata", where, f"empty, and the notes do not say why: "
                                   f"{', '.join(empty)} (fill each from the text, or name it "
                                   "in notes as not given in the text)"))
    return items


def suggestion_items(layout: Layout, coding: pd.DataFrame, site: str) -> list[dict[str, str]]:
    """``coding``: every row of the corpus's sheets, whatever its status."""
    path = layout.coding_csv(site)
    if not path.exists():
        return [_item("suggestions", str(path), "no coding sheet")]
    rows = coding[coding["site"] == site]
    pending = rows[rows["status"] == "suggested"]
    items = []
    if len(pending):
        lines = ", ".join(map(str, pending["_line"].tolist()[:8]))
        more = ", ..." if len(pending) > 8 else ""
        items.append(_item("suggestions", str(path), f"{len(pending)} suggestion(s) not yet "
                           f"reviewed (status 'suggested', lines {lines}{more}): accept, "
                           "correct or reject each"))
    if not rows["status"].isin(["", "accepted"]).any():
        items.append(_item("suggestions", str(path), "no accepted coding: the site shows "
                           "every code 'not reported'"))
    return items


def appraisal_items(layout: Layout, site: str) -> list[dict[str, str]]:
    path = layout.appraisal_dir / f"{site}.csv"
    if layout.casp_questions_csv.exists() and not path.exists():
        return [_item("appraisal", str(path), "no CASP appraisal (one row per question of "
                      f"{layout.casp_questions_csv.name}; docs/coding/conventions.md)")]
    return []


def memo_items(layout: Layout, corpus, site: str) -> list[dict[str, str]]:
    path = layout.memo_dir / f"{site}.md"
    if not path.exists():
        return [_item("memo", str(path), "no coding memo (its '## Main points' section is "
                      "shown in the site notebook)")]
    from analysis.coverage import paragraph_table

    memo = " ".join(path.read_text(encoding="utf-8").split())
    paragraphs = paragraph_table(corpus)
    uncoded = paragraphs[(paragraphs["site"] == site) & ~paragraphs["coded"]]
    return [_item("memo", str(path), f"uncoded {r.section} paragraph at offset {r.start} "
                  f"('{r.first_words}') is not explained in the memo (quote its first three "
                  "words and say why it is not coded)")
            for r in uncoded.itertuples() if " ".join(r.first_words.split()[:3]) not in memo]


def gloss_items(layout: Layout, corpus, site: str) -> list[dict[str, str]]:
    from analysis.report import needed_glosses

    needed = needed_glosses(layout, corpus)
    needed = needed[needed["site"] == site]
    return [_item("glosses", str(layout.glosses_csv), f"no English gloss for {r.segment_id} "
                  f"({r.code}): {r.quote[:60]!r}") for r in needed.itertuples()]


def _has_column(path: Path, column: str) -> bool:
    """Whether the header of the CSV file ``path`` names ``column``."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return column in (name.strip() for name in next(csv.reader(handle), []))


def cerqual_items(layout: Layout, corpus, site: str, name: str) -> list[dict[str, str]]:
    path = layout.cerqual_csv
    from analysis.coding import segments as segment_table
    from analysis.synthesis import cerqual_summary, load_findings, site_set

    findings = load_findings(corpus)
    if findings is None:
        return []
    summary = cerqual_summary(findings, segment_table(corpus), corpus.site_ids)
    contributing = {r.finding_id: site_set(r.contributing_sites)
                    for r in summary.itertuples()}
    column = JUDGED_SITES_COLUMN if _has_column(path, JUDGED_SITES_COLUMN) else None
    items = []
    for row in records(findings):  # as load_cerqual read them: _line is the physical line
        finding, line = row.finding_id, row._line
        contributes = site in contributing.get(finding, set())
        if column is not None:
            if contributes != (site in site_set(row.judged_sites)):
                state = ("contributes" if contributes else "no longer contributes")
                items.append(_item("cerqual", f"{path}:{line}", f"{finding}: the site {state} "
                                   f"but the judgment's '{column}' says otherwise: review the "
                                   "judgment and update the column"))
        elif contributes and not _mentions(row.explanation, site, name):
            items.append(_item("cerqual", f"{path}:{line}", f"{finding}: the site contributes "
                               "(computed from the coding) but the explanation does not name "
                               "it: review the judgment"))
    return items


def _mentions(text: str, site: str, name: str) -> bool:
    text = " ".join(text.lower().replace("_", " ").split())
    return site.replace("_", " ") in text or (bool(name) and name.lower() in text)


def notebook_items(layout: Layout, site: str, name: str,
                   display: str = "") -> list[dict[str, str]]:
    """The committed notebooks whose stored outputs name the site neither by its slug, its
    office (``name``) nor its display name (``display``, as the notebooks show it)."""
    if layout.data.resolve() != DEFAULT_DATA.resolve():
        return []
    items = []
    for file in COMMITTED_NOTEBOOKS:
        path = NOTEBOOKS / file
        if path.exists() and not _outputs_mention(path, (site, name, display)):
            items.append(_item("notebooks", str(path), "its stored outputs do not show the "
                               "site: make refresh-notebooks"))
    return items


def _outputs_mention(path: Path, words: tuple[str, ...]) -> bool:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    buf = io.StringIO()
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            buf.write("".join(output.get("text", [])))
            for value in output.get("data", {}).values():
                buf.write("".join(value) if isinstance(value, list) else str(value))
    text = buf.getvalue()
    return any(w and w in text for w in words)


def site_status(layout: Layout, site: str) -> pd.DataFrame:
    """What site ``site`` still lacks: one row per item (module docstring), in the order
    of :data:`KINDS`. Validates the corpus first (suggested rows included)."""
    from analysis.sources import load_corpus

    full = load_corpus(layout, accepted_only=False)
    if site not in set(full.sites["site"]):
        raise InputError(layout.sites_csv, f"unknown site '{site}' (known: "
                         f"{', '.join(full.site_ids)})", column="site")
    accepted = full.coding[full.coding["status"].isin(["", "accepted"])]
    corpus = dataclasses.replace(full, coding=accepted.reset_index(drop=True))
    name = str(full.sites.set_index("site").loc[site, "name"])
    items = (metadata_items(layout, corpus, site) + suggestion_items(layout, full.coding, site)
             + appraisal_items(layout, site) + memo_items(layout, corpus, site)
             + gloss_items(layout, corpus, site) + cerqual_items(layout, corpus, site, name)
             + notebook_items(layout, site, name, site_names(full.sites)[site]))
    return pd.DataFrame(items, columns=COLUMNS)
