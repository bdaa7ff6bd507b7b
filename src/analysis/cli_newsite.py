"""Commands ``new-site`` and ``suggestion-terms`` (the stage is imported when they run)."""

from __future__ import annotations

import sys
from pathlib import Path

from analysis.cli import command, layout_of


@command("new-site", "add a site from its PDF, .docx or text: rows in sources.csv and "
                     "sites.csv, a guessed section map and suggested coding (status "
                     "'suggested')")
def _new_site(p):
    p.add_argument("slug", help="the new site's slug (lower case, digits, _), also its "
                                "source id and file names")
    p.add_argument("text", type=Path, help="the study: a PDF (its text is extracted), a Word "
                                           ".docx, or a plain UTF-8 text (copied unchanged); "
                                           "stored as DATA/raw/SLUG.txt")
    p.add_argument("--name", default="", help="office studied, for sites.csv 'name'")
    p.add_argument("--admin-level", default="", metavar="LEVEL",
                   help="for sites.csv 'admin_level': provinsi, kabupaten, kota, kecamatan, "
                   "distrik, kelurahan, desa, sekretariat_daerah (or 'sekretariat daerah', "
                   "setda), dinas or badan")
    p.add_argument("--unit", default="", help="unit studied, for sites.csv 'unit_studied'")
    p.add_argument("--language", default="id", help="language of the text: id (default) or en")

    def run(args):
        from analysis.newsite import add_site

        layout = layout_of(args)
        result = add_site(layout, args.slug, args.text, name=args.name,
                          admin_level=args.admin_level, unit=args.unit,
                          language=args.language)
        for line in extraction_lines(result.extraction):
            print(line)
        for path in result.written:
            print(f"wrote {path}")
        if result.whole_text:
            print(f"section map: no results heading recognised, so one 'results' span over "
                  "the whole text, and suggestions were made over all of it; split the map "
                  "at the study's headings (docs/new_site.md)")
        else:
            print(f"section map: {result.n_sections} span(s), guessed from its headings; "
                  "check it")
        if result.n_suggestions:
            print(f"suggestions: {result.n_suggestions} (sentence x code) on "
                  f"{result.n_sentences} sentences, {len(result.codes)} codes, all status "
                  "'suggested': none counts until you set its status to 'accepted'")
        else:
            print(f"suggestions: none, because {result.why_none}")
        print(f"next: fill the empty fields of {layout.sites_csv.name} and "
              f"{layout.sources_csv.name}, review {layout.coding_csv(args.slug)} "
              f"(docs/new_site.md), then: .venv/bin/python -m analysis site-status {args.slug}")
        return 0

    p.set_defaults(run=run)


def extraction_lines(extraction) -> list[str]:
    """What new-site says about a PDF or .docx it extracted (nothing for a plain text)."""
    if extraction is None or extraction.kind == "text":
        return []
    lines = [f"extracted the text of {extraction.origin_file} (sha256 "
             f"{extraction.origin_sha256[:12]}..., recorded in origin_sha256)"
             + (f": {extraction.n_pages} pages, a form-feed line at each page break"
                if extraction.kind == "pdf" else "")]
    if extraction.removed:
        shown = "; ".join(repr(r) for r in extraction.removed[:4])
        more = f" and {len(extraction.removed) - 4} more" if len(extraction.removed) > 4 else ""
        lines.append(f"removed running headers/footers: {shown}{more}")
    if extraction.empty_pages:
        lines.append("pages without text (images? check them against the PDF): "
                     + ", ".join(map(str, extraction.empty_pages)))
    return lines


@command("site-status", "list what a site still lacks (metadata, review of suggestions, "
                        "appraisal, memo, glosses, CERQual, notebooks); 'nothing to do' and "
                        "exit 0 when complete, else exit 1")
def _site_status(p):
    p.add_argument("slug", help="the site's slug")
    p.add_argument("--csv", action="store_true", help="print the items as CSV (kind, where, "
                                                      "what), for scripts")

    def run(args):
        from analysis.sitestatus import site_status

        items = site_status(layout_of(args), args.slug)
        if args.csv:
            sys.stdout.write(items.to_csv(index=False, lineterminator="\n"))
            return 1 if len(items) else 0
        if items.empty:
            print(f"{args.slug}: nothing to do")
            return 0
        for row in items.itertuples():
            print(f"[{row.kind}] {row.where}: {row.what}")
        print(f"{args.slug}: {len(items)} thing(s) to do")
        return 1

    p.set_defaults(run=run)


@command("suggestion-terms", "print, as CSV, the terms coding suggestions use: data/lexicon.csv "
                             "and the terms learned from the accepted coding")
def _suggestion_terms(p):
    p.add_argument("--language", default="id", help="id (default) or en")

    def run(args):
        from analysis.autocode import LANGUAGES, corpus_lexicon, suggestion_terms
        from analysis.errors import InputError
        from analysis.sources import load_corpus

        layout = layout_of(args)
        if args.language not in LANGUAGES:
            raise InputError(layout.lexicon_csv, f"language '{args.language}' has no stemmer "
                             f"(expected one of: {', '.join(LANGUAGES)})")
        corpus = load_corpus(layout)
        terms = suggestion_terms(corpus, args.language, lexicon=corpus_lexicon(corpus))
        terms = terms.assign(stems=[" + ".join(" ".join(p) for p in parts)
                                    for parts in terms["parts"]])
        table = terms[["code", "origin", "term", "stems", "weight"]].sort_values(
            ["code", "origin", "term"], kind="stable")
        sys.stdout.write(table.to_csv(index=False, lineterminator="\n", float_format="%.4g"))
        return 0

    p.set_defaults(run=run)
