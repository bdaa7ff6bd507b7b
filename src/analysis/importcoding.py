"""Coding sheets from a REFI-QDA project coded in another tool: ``qdpx import-coding``.

:func:`import_coding` reads a ``.qdpx`` (with :func:`analysis.exchange.read_qdpx`, so
every safety rule and position reading of the plain import applies) and turns the
codings of one user into coding sheets, ``DATA/coding/<site>.csv`` (or
``DATA/second_coding/<site>.csv`` for a second coder), validated like every hand-made
sheet before anything is replaced. The convention a coder follows inside the tool is
the kit's exported code tree (:func:`analysis.exchange.codebook_tree`, docs/exchange.md):

* **site**: a text source whose text equals a raw text of ``sources.csv`` belongs to
  that source's site; ``--site-map`` (source name -> site or source_id) for the rest,
  whose quotes are then found in the site's raw text;
* **code**: a tool code is a kit code when the code map says so, or by its GUID (the
  kit's export), its path in the kit's tree, or its name equal to a code id or its
  English or Indonesian label; a child ``positive``/``negative`` of a code gives the
  valence; children of the groups ``evidence``, ``attribution``, ``informant`` and
  ``section`` are not findings but give those columns to the findings coded in the
  same selection, or else inside the smallest selection around them;
* **what the tool does not carry**: the selection's Description (the kit's export
  writes ``valence: ...; evidence: ...``) comes next, then a default: valence
  ``positive`` (a barrier is always ``negative``), evidence ``author_claim``,
  attribution ``primary``, section from the section map. A row that got a default
  where the convention wants a coding is marked for review: ``status`` ``suggested``
  (it counts only once a researcher sets ``accepted``) and a memo that says what to check.

Refused, with nothing written: several users and no ``--user``; an unknown user; a
coded source that matches no site; codes that match no kit code or several (every one
listed, and a code-map template written to fill in); two values of one attribute for
one finding; an existing sheet without ``--replace``; a sheet that would not validate.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from analysis.agreement import coder_rows, coders_listing
from analysis.errors import InputError
from analysis.exchange import (ATTRIBUTE_GROUPS, SEGMENT_ATTRIBUTES, codebook_tree, read_qdpx,
                               shown)
from analysis.io import atomic_write_all, atomic_write_text, csv_text
from analysis.paths import Layout
from analysis.schema import SLUG, Column, Schema, read_table, records
from analysis.sources import (CODED_SECTIONS, CODING, VALENCES, load_coding_sheet, load_corpus,
                              section_at, sha256_of)

MESSAGE_LIMIT = 50_000
"""Longest message shown (a refusal lists every unmatched code)."""

IGNORE = "ignore"
"""A code map's kit_code that leaves a tool code's codings out."""

KIT_CODE_HINT = ("a code of codebook.csv, CODE/positive or CODE/negative, a path of the kit's "
                 "code tree such as evidence/interview, or 'ignore'")

CODE_MAP = Schema("code_map", (
    Column("tool_code", hint="the code's path in the tool, as in the template"),
    Column("kit_code", hint=KIT_CODE_HINT),
    Column("codings", required=False, optional=True),
    Column("candidates", required=False, optional=True),
), unique=("tool_code",))

SITE_MAP = Schema("site_map", (
    Column("source", hint="a source name (or GUID) of the project"),
    Column("site", pattern=SLUG, hint="a site of sites.csv or a source_id of sources.csv"),
), unique=("source",))

VALENCE_NAMES = {"positive": "positive", "negative": "negative", "positif": "positive",
                 "negatif": "negative"}
"""Names of a code's valence children, English or Indonesian."""

DEFAULTS = {"valence": "positive", "evidence": "author_claim", "attribution": "primary",
            "informant": "", "section": "results"}

_DESCRIPTION = re.compile(r"(?:^|; )(%s): (.*?)(?=; (?:%s): |$)" % (
    "|".join(SEGMENT_ATTRIBUTES), "|".join(SEGMENT_ATTRIBUTES)), re.DOTALL)


class ImportRefused(InputError):
    """An import that cannot be right; ``details`` lists every offending item."""

    def __init__(self, file, message: str, details: list[str] | None = None):
        super().__init__(file, message)
        self.details = details or []


@dataclass(frozen=True)
class Meaning:
    """What a tool code stands for in the kit: a finding (``kind`` code, with a valence
    in ``value`` or none), an attribute value (``kind`` attribute: ``attribute``,
    ``value``), a group of attribute values, a category, or ``ignore``."""

    kind: str
    code: str = ""
    attribute: str = ""
    value: str = ""
    how: str = ""


@dataclass
class ImportResult:
    """What :func:`import_coding` wrote: the sheets by site, their paths, the report."""

    sheets: dict[str, pd.DataFrame]
    written: list[Path]
    report: list[str]
    report_path: Path | None = None
    review: int = 0


def normal(name: str) -> str:
    """A name compared without case, accents or repeated white space."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return " ".join(text.replace("_", " ").split()).casefold()


# --------------------------------------------------------------------------- the kit's names

@dataclass
class KitNames:
    """Every name of the kit's code tree a tool code can be matched to."""

    by_guid: dict[str, Meaning]
    by_path: dict[str, Meaning]
    by_label: dict[str, set[str]]
    category: dict[str, str]

    @classmethod
    def of(cls, codebook: pd.DataFrame) -> "KitNames":
        tree = codebook_tree(codebook)
        by_guid, by_path = {}, {}
        for row in tree.to_dict("records"):
            meaning = {"category": Meaning("category", value=row["name"]),
                       "code": Meaning("code", code=row["code"]),
                       "valence": Meaning("code", code=row["code"], value=row["value"]),
                       "group": Meaning("group", attribute=row["attribute"]),
                       "attribute": Meaning("attribute", attribute=row["attribute"],
                                            value=row["value"])}[row["kind"]]
            by_guid[row["guid"]] = meaning
            by_path[row["path"].casefold()] = meaning
            if row["kind"] in ("code", "valence"):         # short forms: CODE, CODE/positive
                short = row["code"] + (f"/{row['value']}" if row["value"] else "")
                by_path[short.casefold()] = meaning
        by_label: dict[str, set[str]] = {}
        for row in codebook.fillna("").to_dict("records"):
            for label in (row["code"], row["label_en"], row["label_id"]):
                if label:
                    by_label.setdefault(normal(label), set()).add(row["code"])
        return cls(by_guid, by_path, by_label, dict(zip(codebook["code"], codebook["category"])))

    def value(self, text: str) -> Meaning | None:
        """The meaning of a code map's kit_code (a path, a code, CODE/valence, ignore)."""
        text = text.strip()
        if text.casefold() == IGNORE:
            return Meaning(IGNORE, how="code map")
        found = self.by_path.get(text.casefold())
        if found is None and "/" in text:
            group, value = text.split("/", 1)
            if group.casefold() == "informant" and value.strip():
                found = Meaning("attribute", attribute="informant", value=value.strip())
        if found is None or found.kind in ("category", "group"):
            return None
        return Meaning(found.kind, found.code, found.attribute, found.value, "code map")


def resolve_codes(codes: pd.DataFrame, kit: KitNames,
                  code_map: dict[str, Meaning]) -> dict[str, Meaning | tuple[str, ...] | None]:
    """The kit meaning of every tool code, by GUID: a :class:`Meaning`, a tuple of
    candidate kit codes (ambiguous) or None (unmatched).

    In order: the code map (by the tool's path, or its name when no other code has it),
    the kit's GUID, the kit's path, a valence child of a code or a value under an
    attribute group, a code id or label equal to the name.
    """
    rows = {r["code_guid"]: r for r in codes.to_dict("records")}
    name_count = codes["code"].value_counts().to_dict()
    done: dict[str, Meaning | tuple[str, ...] | None] = {}

    def resolve(guid: str) -> Meaning | tuple[str, ...] | None:
        if guid in done:
            return done[guid]
        row = rows[guid]
        path, name = row["code_path"], row["code"]
        mapped = code_map.get(path) or (code_map.get(name) if name_count.get(name) == 1
                                        else None)
        if mapped is not None:
            result = mapped
        elif guid in kit.by_guid:
            result = _how(kit.by_guid[guid], "GUID")
        elif path.casefold() in kit.by_path and "/" in path:
            result = _how(kit.by_path[path.casefold()], "path")
        else:
            parent = resolve(row["parent_guid"]) if row["parent_guid"] in rows else None
            result = _under(parent, name)
            if result is None and not row["parent_guid"] and normal(name) in \
                    {normal(g) for g in ATTRIBUTE_GROUPS}:
                result = Meaning("group", attribute=normal(name), how="name")
            if result is None:
                found = sorted(kit.by_label.get(normal(name), ()))
                result = (Meaning("code", code=found[0], how="name") if len(found) == 1
                          else tuple(found) if found else None)
        done[guid] = result
        return result

    for guid in codes["code_guid"]:
        resolve(guid)
    return done


def _how(meaning: Meaning, how: str) -> Meaning:
    return Meaning(meaning.kind, meaning.code, meaning.attribute, meaning.value, how)


def _under(parent, name: str) -> Meaning | None:
    """A valence child of a kit code, or a value under an attribute group."""
    if not isinstance(parent, Meaning):
        return None
    if parent.kind == "code" and not parent.value and normal(name) in VALENCE_NAMES:
        return Meaning("code", code=parent.code, value=VALENCE_NAMES[normal(name)],
                       how="valence child")
    if parent.kind == "group":
        allowed = ATTRIBUTE_GROUPS[parent.attribute]
        if parent.attribute == "informant":
            return Meaning("attribute", attribute="informant", value=name.strip(),
                           how="attribute group")
        match = [v for v in allowed if normal(v) == normal(name)]
        if match:
            return Meaning("attribute", attribute=parent.attribute, value=match[0],
                           how="attribute group")
    return None


# --------------------------------------------------------------------------- maps

def read_code_map(path: Path, kit: KitNames) -> dict[str, Meaning]:
    """tool code path (or name) -> meaning, from a code map CSV (CODE_MAP)."""
    table = read_table(path, CODE_MAP)
    result = {}
    for row in records(table):
        meaning = kit.value(row.kit_code)
        if meaning is None:
            raise InputError(path, f"'{row.kit_code}' is not a kit code (expected "
                             f"{KIT_CODE_HINT})", line=row._line, column="kit_code")
        result[row.tool_code.strip()] = meaning
    return result


def read_site_map(path: Path) -> dict[str, tuple[str, int]]:
    """source name or GUID -> (site or source_id, line), from a site map CSV (SITE_MAP)."""
    table = read_table(path, SITE_MAP)
    return {row.source.strip(): (row.site, row._line) for row in records(table)}


# --------------------------------------------------------------------------- sources

@dataclass
class SourceMatch:
    """Where a tool source's codings go: kit ``source_id`` and ``site``, and how its
    offsets become offsets into the kit's raw text (``how``: content | content_lf | map)."""

    source_id: str
    site: str
    how: str
    tool_text: str
    kit_text: str

    @cached_property
    def _crlf(self) -> list[int]:
        """The index of the "\\n" of every "\\r\\n" of the tool text, in order."""
        return [m.end() - 1 for m in re.finditer("\r\n", self.tool_text)]

    def _lf(self, i: int) -> int:
        """Where tool offset ``i`` falls once each "\\r\\n" is one "\\n": the length of
        ``tool_text[:i].replace("\\r\\n", "\\n")``, without copying the text (each
        "\\r\\n" whose "\\n" lies before ``i`` is one character less)."""
        return i - bisect_left(self._crlf, i)

    def span(self, start: int, end: int) -> tuple[int, int] | None:
        """The kit offsets of a tool span (None when its text is not in the raw text)."""
        if self.how == "content":
            return start, end
        if self.how == "content_lf":
            return self._lf(start), self._lf(end)
        quote = self.tool_text[start:end]
        hits = [m.start() for m in re.finditer(re.escape(quote), self.kit_text)] if quote else []
        if not hits:
            return None
        expected = start * len(self.kit_text) / max(len(self.tool_text), 1)
        best = min(hits, key=lambda h: (abs(h - expected), h))
        return best, best + len(quote)


def match_sources(project, used: list[str], corpus, site_map: dict[str, tuple[str, int]],
                  site_map_path: Path | None, archive: Path
                  ) -> tuple[dict[str, SourceMatch], list[str], list[str]]:
    """Match every coded source to a kit source: by content, else by the site map.
    Returns (matches, unmatched source names, report lines)."""
    by_text: dict[str, list[str]] = {}
    for source_id, text in corpus.texts.items():
        by_text.setdefault(text, []).append(source_id)
    by_lf = {text.replace("\r\n", "\n"): ids for text, ids in by_text.items()}
    site_of = dict(zip(corpus.sources["source_id"], corpus.sources["site"]))
    own = corpus.sources.groupby("site")["source_id"].agg(sorted).to_dict()
    guid_of = dict(zip(project.source_table["source"], project.source_table["source_guid"]))
    original: dict[str, list[str]] = {}
    for new, old in project.renamed.items():
        original.setdefault(old, []).append(new)
    keys = {}
    for key, value in site_map.items():
        names = ([key] if key in project.sources else original.get(key, []) or
                 [n for n, g in guid_of.items() if g == key.strip("{}").lower()])
        if len(names) > 1:
            raise InputError(site_map_path, f"source name '{key}' is used by {len(names)} "
                             f"sources of the project ({', '.join(sorted(names))}); name one "
                             "as shown there, or by its GUID", line=value[1], column="source")
        if not names:
            raise InputError(site_map_path, f"no source '{key}' in {archive.name} (sources: "
                             f"{', '.join(sorted(project.sources))})", line=value[1],
                             column="source")
        keys[names[0]] = value
    matches, unmatched, report = {}, [], []
    for name in used:
        text = project.sources[name]
        ids, how = by_text.get(text, []), "content"
        if not ids and "\r\n" in text:
            ids, how = by_lf.get(text.replace("\r\n", "\n"), []), "content_lf"
        if name in keys:
            target, line = keys[name]
            if target in site_of and site_of[target]:
                source_id = target
            elif target in own and len(own[target]) == 1:
                source_id = own[target][0]
            elif target in own:
                raise InputError(site_map_path, f"site '{target}' has several sources "
                                 f"({', '.join(own[target])}); give the source_id",
                                 line=line, column="site")
            else:
                raise InputError(site_map_path, f"'{target}' is neither a site with a source "
                                 "nor a case study's source_id of sources.csv", line=line,
                                 column="site")
            how = how if source_id in ids else "map"
            report.append(f"source '{name}' -> {source_id} (site {site_of[source_id]}): given "
                          "by the site map" + ("" if how == "map" else ", and its text is the "
                                               "raw text"))
        elif len(ids) == 1:
            source_id = ids[0]
            report.append(f"source '{name}' -> {source_id} (site {site_of[source_id] or '-'}): "
                          "its text is the raw text" + (" once CRLF line ends are read as LF"
                                                         if how == "content_lf" else ""))
        else:
            unmatched.append(name if not ids else f"{name} (its text is that of "
                             f"{', '.join(ids)}: several sources)")
            continue
        if not site_of[source_id]:
            raise InputError(archive, f"source '{name}' is the kit's '{source_id}', which "
                             "belongs to no site: its codings cannot go into a coding sheet")
        matches[name] = SourceMatch(source_id, site_of[source_id], how, text,
                                    corpus.texts[source_id])
    return matches, unmatched, report


# --------------------------------------------------------------------------- attributes

def description_values(description: str) -> dict[str, str]:
    """The ``name: value`` pairs of a selection Description as the kit's export writes it."""
    return {m.group(1): m.group(2).strip() for m in _DESCRIPTION.finditer(description or "")}


def attribute_values(findings: pd.DataFrame, attributes: pd.DataFrame, archive: Path
                     ) -> pd.DataFrame:
    """The attribute codings that apply to each finding: those in its own selection,
    else those of the smallest selection around it (same source). One column per
    attribute (empty when none applies); two values for one finding are refused."""
    out = {name: [""] * len(findings) for name in ATTRIBUTE_GROUPS}
    grouped = {key: frame for key, frame in attributes.groupby("source", sort=False)}
    conflicts = []
    for i, row in enumerate(findings.itertuples(index=False)):
        pool = grouped.get(row.source)
        if pool is None:
            continue
        for name in ATTRIBUTE_GROUPS:
            mine = pool[pool["attribute"] == name]
            if mine.empty:
                continue
            same = mine[(mine["selection_guid"] == row.selection_guid)
                        & (row.selection_guid != "")]
            if same.empty:
                around = mine[(mine["start"] <= row.start) & (mine["end"] >= row.end)]
                if around.empty:
                    continue
                width = around["end"] - around["start"]
                same = around[width == width.min()]
            values = sorted(set(same["value"]))
            if len(values) > 1:
                conflicts.append(f"source '{row.source}' {row.start}-{row.end} "
                                 f"({row.code_path}): {name} {' and '.join(values)}")
            out[name][i] = values[0]
    if conflicts:
        raise ImportRefused(archive, f"{len(conflicts)} coded passages have two values of one "
                            "attribute (code only one around each passage): "
                            + "; ".join(conflicts[:5]) + ("; ..." if len(conflicts) > 5 else ""),
                            conflicts)
    return pd.DataFrame(out, index=findings.index)


# --------------------------------------------------------------------------- main

def import_coding(layout: Layout, archive: str | Path, *, code_map: str | Path | None = None,
                  site_map: str | Path | None = None, user: str | None = None,
                  second: bool = False, replace: bool = False, sites=None,
                  template_dir: str | Path | None = None, **read_options) -> ImportResult:
    """Turn one user's codings in a REFI-QDA project into validated coding sheets (see
    the module docstring). ``template_dir`` (default ``OUT/exchange``) receives the
    code-map and site-map templates of a refused import and the import report.
    ``sites``: write only these sites' sheets (default: every site with codings).
    ``read_options`` go to :func:`analysis.exchange.read_qdpx`.

    Names from the project (codes, sources, users) may hold line breaks or control
    characters: every message and report line is shown on one line, escaped."""
    try:
        result = _import_coding(layout, archive, code_map, site_map, user, second, replace,
                                sites, template_dir, read_options)
    except ImportRefused as exc:
        raise ImportRefused(shown(exc.file, 300), shown(exc.detail, MESSAGE_LIMIT),
                            [shown(line, 600) for line in exc.details]) from None
    except InputError as exc:
        raise InputError(shown(exc.file, 300), shown(exc.detail, MESSAGE_LIMIT), line=exc.line,
                         column=exc.column) from None
    result.report = [shown(line, MESSAGE_LIMIT) for line in result.report]
    return result


def _import_coding(layout, archive, code_map, site_map, user, second, replace, sites,
                   template_dir, read_options) -> ImportResult:
    archive = Path(archive)
    template_dir = Path(template_dir) if template_dir else layout.out / "exchange"
    corpus = load_corpus(layout, accepted_only=False, require_sheets=False)  # it writes them
    project = read_qdpx(archive, **read_options)
    kit = KitNames.of(corpus.codebook)
    segments = project.segments
    report = [f"import-coding of {archive.name} (sha256 {sha256_of(archive)}) into "
              f"{'second_coding' if second else 'coding'}/ of {layout.data}"]
    report += [f"read: {line}" for line in project.assumptions]

    if segments.empty:
        raise InputError(archive, "the project holds no coded text selections: nothing to "
                         "import (nothing written)")
    segments, who = choose_user(segments, user, archive)
    report.append(f"user: {who}")
    mapping = read_code_map(Path(code_map), kit) if code_map else {}
    meanings = resolve_codes(project.codes, kit, mapping)
    meaning = segments["code_guid"].map(meanings)
    problems, details = [], []

    bad = segments[meaning.map(lambda m: not isinstance(m, Meaning)
                               or m.kind in ("category", "group"))]
    if len(bad):
        table = code_template(bad, meanings)
        path = template_dir / f"{archive.stem}-code-map-template.csv"
        problems.append((path, table))
        n_amb = int((table["candidates"] != "").sum())
        details += [f"code '{r.tool_code}' ({r.codings} codings): " +
                    (f"ambiguous, could be {r.candidates}" if r.candidates else
                     "matches no kit code") for r in table.itertuples()]
        message = (f"{len(table) - n_amb} codes match no code of codebook.csv"
                   + (f" and {n_amb} are ambiguous" if n_amb else "")
                   + f": {', '.join(table['tool_code'])}; fill in kit_code in {path} "
                   "(a kit code, CODE/negative, evidence/interview, ... or ignore) and rerun "
                   f"with --code-map {path}")
    keep = meaning.map(lambda m: isinstance(m, Meaning) and m.kind in ("code", "attribute"))
    ignored = meaning.map(lambda m: isinstance(m, Meaning) and m.kind == IGNORE)
    used = sorted(set(segments.loc[~ignored, "source"]))
    sites_map = read_site_map(Path(site_map)) if site_map else {}
    matches, unmatched, source_report = match_sources(
        project, used, corpus, sites_map, Path(site_map) if site_map else None, archive)
    if unmatched:
        path = template_dir / f"{archive.stem}-site-map-template.csv"
        table = pd.DataFrame({"source": unmatched, "site": ""})
        problems.insert(0, (path, table))
        details = [f"source '{s}': its text is none of the raw texts of sources.csv"
                   for s in unmatched] + details
        site_message = (f"{len(unmatched)} coded sources match no site: {', '.join(unmatched)}"
                        f" (their text is none of the raw texts; give --site-map, e.g. "
                        f"the template {path})")
        message = site_message + ("; and " + message if len(bad) else "")
    if problems:
        for path, table in problems:
            atomic_write_text(path, csv_text(table))
        raise ImportRefused(archive, message + "; nothing else written", details)
    report += source_report

    if ignored.any():
        report.append(f"left out: {int(ignored.sum())} codings of codes the code map says "
                      "to ignore")
    segments = segments[keep].copy()
    segments["meaning"] = meaning[keep]
    sheets, lines = build_sheets(segments, matches, corpus, kit, meanings, archive)
    report += lines
    if sites:
        unknown = sorted(set(sites) - set(corpus.sites["site"]))
        if unknown:
            raise InputError(layout.sites_csv, f"--site {', '.join(unknown)}: not a site "
                             f"(sites: {', '.join(corpus.site_ids)})")
        left = sorted(set(sheets) - set(sites))
        if left:
            report.append(f"left out (not a --site): {', '.join(left)}")
        sheets = {site: frame for site, frame in sheets.items() if site in sites}
    target_dir = layout.second_coding_dir if second else layout.coding_dir
    targets = {site: target_dir / f"{site}.csv" for site in sheets}
    existing = [str(p) for p in targets.values() if p.exists()]
    if existing and not replace:
        one = len(existing) == 1
        raise InputError(archive, f"{', '.join(existing)} already exist{'s' if one else ''}; "
                         f"nothing written (give --replace to replace {'it' if one else 'them'})")
    files = {targets[site]: csv_text(sheet).encode("utf-8") for site, sheet in sheets.items()}
    validate_sheets(files, corpus, layout)
    review = sum(int((s.get("status", pd.Series(dtype=str)) == "suggested").sum())
                 for s in sheets.values())
    report.append(f"marked for review (status suggested, memo 'IMPORT: ...'): {review} of "
                  f"{sum(len(s) for s in sheets.values())} rows")
    result = ImportResult(sheets, [], report, review=review)
    atomic_write_all(files)
    result.written = sorted(files)
    report += [f"wrote {path} ({len(sheets[path.stem])} rows)" for path in result.written]
    result.report_path = atomic_write_text(
        template_dir / f"{archive.stem}-import-coding.txt",
        "".join(shown(line, MESSAGE_LIMIT) + "\n" for line in report))
    return result


def choose_user(segments: pd.DataFrame, user: str | None, archive: Path
                ) -> tuple[pd.DataFrame, str]:
    """The codings of one user (by name or GUID, :func:`analysis.agreement.coder_rows`);
    several users need ``user``, and a name several users share needs the GUID."""
    n_users = segments["user_guid"].nunique()
    listing = coders_listing(segments)
    if user is None:
        if n_users > 1:
            raise InputError(archive, f"the project holds codings by {n_users} users "
                             f"({listing}); choose one with --user NAME")
        return segments, segments["user"].iloc[0]
    try:
        mine = segments[coder_rows(segments, user)]
    except ValueError as error:
        raise InputError(archive, str(error)) from None
    return mine, f"{user} (of {n_users} users with codings: {listing})"


def code_template(bad: pd.DataFrame, meanings) -> pd.DataFrame:
    """One row per unmatched or ambiguous tool code: tool_code, kit_code (to fill in),
    codings, candidates."""
    counts = bad.groupby(["code_path", "code_guid"], sort=True).size()
    rows = []
    for (path, guid), n in counts.items():
        found = meanings.get(guid)
        rows.append(dict(tool_code=path, kit_code="", codings=int(n),
                         candidates=" | ".join(found) if isinstance(found, tuple) else ""))
    return pd.DataFrame(rows, columns=["tool_code", "kit_code", "codings", "candidates"])


def build_sheets(segments: pd.DataFrame, matches: dict[str, SourceMatch], corpus, kit: KitNames,
                 meanings: dict, archive: Path) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """One coding sheet per site from the resolved codings, and report lines.
    ``meanings``: every tool code's meaning (:func:`resolve_codes`, code map applied); its
    attribute groups are the attributes the project's coder could code."""
    is_finding = segments["meaning"].map(lambda m: m.kind == "code")
    attributes = segments[~is_finding].assign(
        attribute=lambda f: f["meaning"].map(lambda m: m.attribute),
        value=lambda f: f["meaning"].map(lambda m: m.value))
    findings = segments[is_finding].reset_index(drop=True)
    coded = attribute_values(findings, attributes, archive)
    convention = {m.attribute for m in meanings.values()
                  if isinstance(m, Meaning) and m.kind == "group"}
    lines = [f"codings: {len(findings)} findings, {len(attributes)} attribute codings"]
    how = findings["meaning"].map(lambda m: m.how).value_counts().sort_index()
    lines.append("codes matched by " + ", ".join(f"{k}: {v}" for k, v in how.items()))
    by_name = sorted({f"'{r.code_path}' -> {r.meaning.code}" for r in findings.itertuples()
                      if r.meaning.how == "name"})
    if by_name:
        lines.append("matched by name or label (check these are the same concept): "
                     + "; ".join(by_name))
    rows, unlocated, outside, empty = [], [], [], 0
    origin = {name: {} for name in ("valence", *ATTRIBUTE_GROUPS)}
    for i, row in enumerate(findings.itertuples(index=False)):
        match = matches[row.source]
        if row.start == row.end:
            empty += 1
            continue
        span = match.span(row.start, row.end)
        if span is None:
            unlocated.append(f"'{row.text[:60]}' ({row.source} {row.start}-{row.end})")
            continue
        start, end = span
        m = row.meaning
        described = description_values(row.description)
        notes, values = [], {}
        smap = corpus.sections.get(match.source_id)
        for name in ("valence", *ATTRIBUTE_GROUPS):
            if name == "valence":
                if kit.category[m.code] == "barrier":
                    value, source = "negative", "barrier"
                elif m.value:
                    value, source = m.value, "code"
                else:
                    value, source = described.get("valence", ""), "description"
                allowed = VALENCES
            elif name == "section" and smap is not None:
                value, source, allowed = section_at(smap, start), "section map", None
            else:
                value, source = coded.at[i, name], "coding"
                if not value:
                    value, source = described.get(name, ""), "description"
                allowed = ATTRIBUTE_GROUPS[name] or None
            if value and allowed and value not in allowed:
                value = ""
            if not value:
                value, source = DEFAULTS[name], "default"
                if name in ("valence", "evidence", "section") or (
                        name == "attribution" and "attribution" not in convention):
                    notes.append(f"{name} '{value}' by default" if value else f"no {name}")
                    source = "default, review"
            values[name] = value
            origin[name][source] = origin[name].get(source, 0) + 1
        if values["section"] not in CODED_SECTIONS:
            outside.append(f"'{row.text[:40]}' ({match.source_id} {start}-{end}, "
                           f"{values['section']})")
            continue
        memo = row.memo
        if notes:
            memo = (f"IMPORT: {'; '.join(notes)}: check against the text, then set status to "
                    "accepted." + (f"\n\n{memo}" if memo else ""))
        rows.append(dict(site=match.site, selection=row.selection, source_id=match.source_id,
                         start=start, end=end, quote=match.kit_text[start:end], code=m.code,
                         valence=values["valence"], evidence=values["evidence"],
                         informant=values["informant"], attribution=values["attribution"],
                         section=values["section"], memo=memo,
                         status="suggested" if notes else ""))
    if unlocated:
        raise ImportRefused(archive, f"{len(unlocated)} coded passages are not in the raw text "
                            "of the site the site map names: " + "; ".join(unlocated[:5])
                            + ("; ..." if len(unlocated) > 5 else ""), unlocated)
    for name, counts in origin.items():
        lines.append(f"{name}: " + ", ".join(f"{n} from {k}" for k, n in sorted(counts.items())))
    if empty:
        lines.append(f"left out: {empty} empty selections (start == end)")
    if outside:
        lines.append(f"left out: {len(outside)} codings in sections the kit does not code: "
                     + "; ".join(outside[:10]) + ("; ..." if len(outside) > 10 else ""))
    table = pd.DataFrame(rows, columns=["site", "selection", "source_id", "start", "end",
                                        "quote", "code", "valence", "evidence", "informant",
                                        "attribution", "section", "memo", "status"])
    return {site: number_sheet(site, frame) for site, frame in table.groupby("site")}, lines


def number_sheet(site: str, rows: pd.DataFrame) -> pd.DataFrame:
    """A site's sheet: a selection named ``<site>-NNN`` keeps that id (the kit's export
    names selections so); the others are numbered on from the highest, in order of
    start, end and code. Rows in id order; ``status`` only when a row needs review."""
    rows = rows.sort_values(["start", "end", "code", "selection"], kind="stable")
    pattern = re.compile(rf"{re.escape(site)}-(\d+)")
    ids, taken = [], set()
    for name in rows["selection"]:
        keep = pattern.fullmatch(name or "") and name not in taken
        ids.append(name if keep else "")
        taken.add(name if keep else None)
    top = max((int(i.rsplit("-", 1)[1]) for i in ids if i), default=0)
    width = max(3, len(str(top + len(ids))))
    for k, value in enumerate(ids):
        if not value:
            top += 1
            ids[k] = f"{site}-{top:0{width}d}"
    sheet = rows.assign(segment_id=ids)
    sheet = sheet.assign(_n=[int(i.rsplit("-", 1)[1]) for i in ids]).sort_values("_n")
    columns = CODING.base_names + (["status"] if (sheet["status"] != "").any() else [])
    return sheet[columns].reset_index(drop=True)


def validate_sheets(files: dict[Path, bytes], corpus, layout: Layout) -> None:
    """Load every new sheet the way the kit loads coding sheets, before anything is
    replaced: quotes at their offsets, codes in the codebook, sections as the map says."""
    with tempfile.TemporaryDirectory(prefix="import-coding-") as tmp:
        for path, data in files.items():
            trial = Path(tmp) / path.name
            trial.write_bytes(data)
            try:
                load_coding_sheet(trial, path.stem, corpus.texts, corpus.codebook,
                                  corpus.sources, corpus.sections)
            except InputError as exc:           # a bug of this module: say so, write nothing
                raise InputError(path, "the imported sheet would not validate, nothing "
                                 f"written: {shown(str(exc).replace(str(trial), path.name), 600)}"
                                 ) from None
