"""Commands ``new-site`` and ``suggestion-terms`` (the stage is imported when they run)."""

from __future__ import annotations

import sys
from pathlib import Path

from analysis.cli import command, layout_of


@command("new-site", "add a site from its raw text: rows in sources.csv and sites.csv, a "
                     "guessed section map and suggested coding (status 'suggested')")
def _new_site(p):
    p.add_argument("slug", help="the new site's slug (lower case, digits, _), also its "
                                "source id and file names")
    p.add_argument("text", type=Path, help="the study's text, plain UTF-8 (copied unchanged "
                                           "to DATA/raw/SLUG.txt)")
    p.add_argument("--name", default="", help="office studied, for sites.csv 'name'")
    p.add_argument("--admin-level", default="", metavar="LEVEL",
                   help="kabupaten, kota or distrik, for sites.csv 'admin_level'")
    p.add_argument("--unit", default="", help="unit studied, for sites.csv 'unit_studied'")
    p.add_argument("--language", default="id", help="language of the text: id (default) or en")

    def run(args):
        from analysis.newsite import add_site

        layout = layout_of(args)
        result = add_site(layout, args.slug, args.text, name=args.name,
                          admin_level=args.admin_level, unit=args.unit,
                          language=args.language)
        for path in result.written:
            print(f"wrote {path}")
        how = ("guessed from its headings" if result.section_guessed
               else "one 'results' span: no section heading recognised")
        print(f"section map: {result.n_sections} span(s), {how}; check it")
        print(f"suggestions: {result.n_suggestions} (sentence x code) on {result.n_sentences} "
              f"sentences, {len(result.codes)} codes, all status 'suggested': none counts "
              "until you set its status to 'accepted'")
        print(f"next: fill the empty fields of {layout.sites_csv.name} and "
              f"{layout.sources_csv.name}, review {layout.coding_csv(args.slug)} "
              "(docs/new_site.md), then: make report")
        return 0

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
