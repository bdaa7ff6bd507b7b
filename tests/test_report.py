"""The comparison PDF: every number it shows is the number in the table it was built from.

The report is built once per corpus for the whole module: a synthetic corpus of five
sites (the conftest corpus plus three sites added as data only, one of them full of
Typst markup characters), and the kit's real data once ``python -m analysis validate``
passes. Text is extracted with pypdfium2 (fast); metadata and fonts are read with pypdf.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import re
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from analysis import report
from analysis.errors import InputError, InputWarning
from analysis.paths import ROOT, Layout
from analysis.report import (compile_pdf, load_corpus_meta, load_glosses, needed_glosses,
                             typst_string)
from analysis.views import number_word, one_line, site_names, state_word
from conftest import CODING_HEADER, build_corpus, coding_rows, csv_text

# --------------------------------------------------------------------------- the synthetic corpus

MARKUP_QUOTE = 'Kepala # $x$ *staf* _aktif_ [bagian] <staf> @kantor \\ "terbuka" // = - + ~ --'
MARKUP_GLOSS = 'The head is “open” — # $ * _ [ ] < > @ \\ ` // ~'

EXTRA_TEXTS = {
    "gamma": ("Abstrak\n\nKepala kantor mendengarkan staf.\n\nHasil\n\n"
              "Kepala kantor selalu terbuka kepada staf dan mendengarkan keluhan mereka setiap "
              "minggu di ruang rapat kantor.\n"
              "Sarana komputer di kantor sangat terbatas sehingga banyak pekerjaan administrasi "
              "selesai terlambat setiap bulan.\n"
              "Pegawai baru mengikuti upacara pagi bersama seluruh pegawai lainnya di halaman "
              "kantor setiap hari Senin.\n"),
    "delta": ("Abstrak\n\nPimpinan jarang memberi dukungan kepada staf.\n\nHasil\n\n"
              "Menurut studi lain di kota berbeda, pimpinan terbuka kepada staf.\n"
              "Pegawai bekerja secara individual dan tidak saling membantu.\n"),
    "epsilon": ("Abstrak\n\n" + MARKUP_QUOTE + " kepada staf.\n\nHasil\n\n"
                "Pimpinan memberi arahan yang jelas kepada staf.\n"),
}

EXTRA_SHEETS = {
    "gamma": [("Kepala kantor mendengarkan staf", "openness", "positive", "abstract"),
              ("selalu terbuka kepada staf", "openness", "positive", "results"),
              ("Sarana komputer di kantor sangat terbatas", "infrastructure", "negative",
               "results"),
              ("selesai terlambat", "timeliness", "negative", "results")],
    "delta": [("Pimpinan jarang memberi dukungan kepada staf", "supportiveness", "negative",
               "abstract"),
              ("pimpinan terbuka kepada staf", "openness", "positive", "results"),
              ("Pegawai bekerja secara individual", "individualism", "negative", "results")],
    "epsilon": [(MARKUP_QUOTE, "openness", "positive", "abstract"),
                ("memberi arahan yang jelas", "clear_instructions", "positive", "results")],
}
SECONDARY = {"delta-002"}  # the "studi lain" passage: evidence about another place

GUIDANCE_TEXT = ("Tantangan: sarana terbatas. Materi: kerja sama tim untuk mengatasi sikap "
                 "individual. Strategi: pelatihan [kerja] tim #1.\n")
GUIDANCE_ROWS = [("sarana terbatas", "challenge", "infrastructure"),
                 ("kerja sama tim untuk mengatasi sikap individual", "material", "individualism"),
                 ("pelatihan [kerja] tim #1", "strategy", "individualism")]

GLOSSED = {"alpha-001": "The leader is open to staff.", "epsilon-001": MARKUP_GLOSS,
           "guidance-002": "teamwork to overcome individualism"}
NOT_GLOSSED = {"alpha-002", "alpha-003", "alpha-004", "beta-001", "beta-002", "beta-003",
               "delta-001", "delta-003", "epsilon-002", "gamma-002", "gamma-003", "gamma-004",
               "guidance-003"}
"""The quotes the report shows (clearest quote of every reported cell of the four framework
tables; guidance materials and strategies) without a gloss in the fixture's glosses.csv."""

DATE = "2031-02-03"


def append_rows(path: Path, rows) -> None:
    with path.open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def append_column(path: Path, name: str, values: list[str]) -> None:
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    rows = [rows[0] + [name]] + [row + [value] for row, value in zip(rows[1:], values)]
    path.write_text(csv_text(rows[0], rows[1:]), encoding="utf-8")


def write(path: Path, header, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(csv_text(header, rows), encoding="utf-8")


def add_case(layout: Layout, site: str, text: str, entries) -> None:
    """A case study added as data only: raw text, sites/sources rows, section map, sheet."""
    raw = layout.raw_dir / f"{site}.txt"
    raw.write_bytes(text.encode("utf-8"))
    append_rows(layout.sources_csv, [[site, site, "case_study", "", "", "", "", "id",
                                      f"raw/{site}.txt", hashlib.sha256(raw.read_bytes()).hexdigest(),
                                      "title, authors and year not given in the text"]])
    append_rows(layout.sites_csv, [[site, f"Kantor {site.capitalize()}", "kota", "",
                                    "Papua Barat Daya", "Bagian Umum", "case study",
                                    "interview", "", "", ""]])
    cut = text.index("Hasil")
    write(layout.sections_csv(site), ["source_id", "section", "start", "end", "heading"],
          [[site, "abstract", 0, cut, "Abstrak"], [site, "results", cut, len(text), "Hasil"]])
    rows = coding_rows(site, text, entries)
    for row in rows:
        if row[0] in SECONDARY:
            row[9] = "cited_secondary"
    write(layout.coding_csv(site), ["segment_id", "source_id", "start", "end", "quote", "code",
                                    "valence", "evidence", "informant", "attribution",
                                    "section", "memo"], rows)


def synthetic_corpus(root: Path) -> Layout:
    """Five sites (alpha ... epsilon), appraisal, guidance, CERQual judgments, glosses."""
    layout = build_corpus(root)
    for site, text in EXTRA_TEXTS.items():
        add_case(layout, site, text, EXTRA_SHEETS[site])
    raw = layout.raw_dir / "guidance.txt"
    raw.write_bytes(GUIDANCE_TEXT.encode("utf-8"))
    append_rows(layout.sources_csv, [["guidance", "", "practitioner_guidance", "Bimtek", "", "",
                                      "", "id", "raw/guidance.txt",
                                      hashlib.sha256(raw.read_bytes()).hexdigest(), ""]])
    write(layout.guidance_csv, ["segment_id", "source_id", "start", "end", "quote", "element",
                                "code", "memo"],
          [[f"guidance-{i:03d}", "guidance", GUIDANCE_TEXT.index(q),
            GUIDANCE_TEXT.index(q) + len(q), q, element, code, ""]
           for i, (q, element, code) in enumerate(GUIDANCE_ROWS, 1)])
    write(layout.casp_questions_csv, ["question_no", "question"],
          [[n, f"Question {n} of the checklist?"] for n in range(1, 11)])
    answers = ["yes", "cant_tell", "no"]
    for k, site in enumerate(["alpha", "beta", "gamma", "delta", "epsilon"]):
        write(layout.appraisal_dir / f"{site}.csv", ["source_id", "question_no", "answer", "reason"],
              [[site, n, answers[(n + k) % 3], f"Reason {n} for {site} [see text]."]
               for n in range(1, 11)])
    write(layout.cerqual_csv, ["finding_id", "finding", "codes", "valence",
                               "methodological_limitations", "coherence", "adequacy",
                               "relevance", "confidence", "explanation"],
          [["F1", "Leaders are open to staff.", "openness", "positive", "minor",
            "no_or_very_minor", "moderate", "minor", "moderate", "Three studies; thin data."],
           ["F2", "Individualism and poor facilities hold staff back.",
            "individualism;infrastructure", "negative", "moderate", "minor", "serious",
            "minor", "very_low", "Author claims only."]])
    # F1 was judged on the sites that contribute now; F2 on one site only: to be reviewed
    append_column(layout.cerqual_csv, "judged_sites", ["alpha;epsilon;gamma", "gamma"])
    second = layout.data / "second_coding" / "gamma.csv"
    rows = coding_rows("gamma", EXTRA_TEXTS["gamma"], EXTRA_SHEETS["gamma"][:3])
    write(second, CODING_HEADER, rows)  # the second coder missed the late work
    write(layout.glosses_csv, ["segment_id", "gloss_en"], sorted(GLOSSED.items()))
    write(layout.data / "corpus.csv", ["key", "value"],
          [["title", "Synthetic corpus: {n_sites} offices"], ["date", DATE],
           ["date_meaning", "date the synthetic data were frozen"], ["coders", "the test suite"]])
    return layout


# --------------------------------------------------------------------------- building once

def pdf_text(data: bytes) -> str:
    import pypdfium2 as pdfium
    doc = pdfium.PdfDocument(data)
    try:
        return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


def flat(text: str) -> str:
    """Whitespace folded: table cells wrap, pages break. A line broken after a hyphen
    ("program-\nprogram") comes out of pdfium as U+FFFE: the hyphen it stands for."""
    return " ".join(text.split()).replace("\ufffe ", "-").replace("\ufffe", "-")


def build(layout: Layout) -> SimpleNamespace:
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        path = report.build_report(layout)
    data = path.read_bytes()
    text = pdf_text(data)
    tables = {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False)
              for p in layout.tables_dir.glob("*.csv")}
    return SimpleNamespace(layout=layout, path=path, bytes=data, text=text, flat=flat(text),
                           tables=tables, stderr=stderr.getvalue())


def real_data_problems() -> list[str]:
    from analysis.validation import validate
    return [f"{Path(f).relative_to(ROOT)}: {v}" for f, v in validate(Layout())
            if not v.startswith("ok")]


@pytest.fixture(scope="module",
                params=["synthetic", pytest.param("real", marks=pytest.mark.kit_data)])
def built(request, tmp_path_factory):
    """The report built once per corpus (the real data only while it validates)."""
    if request.param == "synthetic":
        return request.getfixturevalue("synthetic")  # one build serves both fixtures
    problems = real_data_problems()
    if problems:
        pytest.skip("real data does not validate yet (python -m analysis validate): "
                    + "; ".join(problems))
    return build(Layout(data=ROOT / "data", out=tmp_path_factory.mktemp("real")))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """The report of the synthetic corpus, built once for the module."""
    return build(synthetic_corpus(tmp_path_factory.mktemp("synthetic")))


def table(built, name) -> pd.DataFrame:
    return built.tables[name]


def segments(n: str) -> str:
    return f"{n} segment" if int(n) == 1 else f"{n} segments"


def cell(row) -> str:
    """How the report shows one framework-matrix cell: state (segments), or a dash."""
    return "-" if row["state"] == "not_reported" else f"{state_word(row['state'])} ({row['n_segments']})"


def names(built) -> dict[str, str]:
    """The display name of every site, as sites.csv gives it."""
    return site_names(pd.read_csv(built.layout.sites_csv, dtype=str, keep_default_na=False))


# --------------------------------------------------------------------------- escaping

def test_a_typst_string_literal_escapes_backslash_quote_and_control_characters():
    assert typst_string('a"b\\c\nd\te') == '"a\\"b\\\\c\\nd\\te"'
    assert typst_string("\x07") == '"\\u{7}"'
    assert typst_string("#[*_]$@<>`") == '"#[*_]$@<>`"'


@pytest.mark.parametrize("text", [
    "= not a heading", "- not a list", "+ nor an enumeration", "1. nor this",
    "// not a comment", "/* nor a block comment */", "#let x = 1", "$x^2$ no math",
    "*bold* _emph_ `raw`", "<label> @reference", "[content] {code}", "back\\slash \\n",
    'straight "quotes" and \'apostrophes\'', "tilde~no-space -- and --- and ...",
    "“typographic” ‘quotes’ — keterbukaan, kesetaraan, é", "http://example.org/a_b"])
def test_data_text_prints_exactly_as_given_whatever_markup_it_holds(text, tmp_path):
    source = f'#set text(font: "Libertinus Serif")\n#par[#{typst_string(text)}]\n'
    pdf = compile_pdf(source, tmp_path, pd.Timestamp(DATE).date())
    assert flat(pdf_text(pdf)) == flat(text)


# --------------------------------------------------------------------------- content

SECTION_HEADINGS = [
    "Abstract", "Contents", "Studies included", "Appraisal of the studies",
    "Interpersonal communication dimensions across sites", "Leadership and office practices",
    "Barriers across sites", "Outcomes", "Summary of findings (GRADE-CERQual)",
    "Implications for training", "Limitations of the synthesis", "References",
    "Appendix A: the codebook", "Appendix B: the data dictionary"]


def test_every_section_heading_is_in_the_pdf_in_order(built):
    position = 0
    for heading in SECTION_HEADINGS:
        found = built.text.find(heading, position)
        assert found >= 0, f"heading {heading!r} missing (or out of order)"
        position = found


def test_every_site_of_sites_csv_is_named_by_display_name_and_office(built):
    sites = pd.read_csv(built.layout.sites_csv, dtype=str, keep_default_na=False)
    for row in sites.itertuples():
        assert f"{names(built)[row.site]} {flat(row.name)}" in built.flat, row.site


def test_no_site_slug_stands_where_a_name_belongs(built):
    """Slugs appear only inside identifiers (segment ids, file paths) and the appendices.

    On the real data only: the synthetic corpus's own texts hold its slugs ("Office alpha")."""
    if built.layout.data != ROOT / "data":
        pytest.skip("the synthetic data text contains the slugs as words")
    body = built.text[:built.text.rindex("Appendix A: the codebook")]
    for site, name in names(built).items():
        if site == name:
            continue
        slug = re.compile(rf"(?<![\w/.-]){re.escape(site)}(?![\w-]|\.(csv|txt|md))")
        shown = [body[max(0, m.start() - 40):m.end() + 40] for m in slug.finditer(body)]
        assert not shown, f"slug {site!r} shown where {name!r} belongs: {shown[:3]}"


def test_the_date_is_the_data_date_never_the_build_time(built):
    date = load_corpus_meta(built.layout)["date"]
    assert f"Date of the data: {date}" in built.text
    import pypdf
    meta = pypdf.PdfReader(io.BytesIO(built.bytes)).metadata
    assert meta["/CreationDate"].startswith("D:" + date.replace("-", ""))


@pytest.mark.parametrize("category", ["dimension", "practice", "barrier", "outcome"])
def test_every_reported_cell_of_a_framework_table_shows_its_state_and_clearest_quote(
        built, category):
    matrix = table(built, "site_code_matrix")
    book = pd.read_csv(built.layout.codebook_csv, dtype=str, keep_default_na=False)
    labels = {r.code: f"{r.label_en} – {r.label_id}" for r in book.itertuples()}
    best = report.clearest_quotes(report.read_back(built.layout, "segments")).set_index(
        ["site", "canonical_code"])
    site_name = names(built)
    part = matrix[matrix["category"] == category]
    position = built.flat.index("Clearest quote and English gloss",
                                built.flat.index(f"Table {TABLE_NUMBER[category]}:"))
    for code, rows in part.groupby("code", sort=False):
        reported = rows[rows["state"] != "not_reported"].sort_values("site")
        if reported.empty:
            continue
        position = built.flat.index(labels[code], position)
        for row in reported.to_dict("records"):
            quote = best.loc[(row["site"], code)]
            expected = (f"{site_name[row['site']]} {cell(row)} “{flat(one_line(quote['quote']))}” "
                        f"{quote['segment_id']}")
            if row["site"] == "beta":  # its emoji is not in the bundled fonts (docs/report.md)
                expected = f"{site_name[row['site']]} {cell(row)} “"
            found = built.flat.find(expected, position)
            assert found >= 0, f"{category} {code}: {expected!r} not shown after its heading"
            position = found
        absent = [site_name[s] for s in sorted(rows.loc[rows["state"] == "not_reported", "site"])]
        if absent:
            assert "Not reported by " + (", ".join(absent[:-1]) + " and " + absent[-1]
                                         if len(absent) > 1 else absent[0]) in built.flat


TABLE_NUMBER = {"dimension": 6, "practice": 7, "barrier": 8, "outcome": 9}


def test_cerqual_rows_show_the_computed_studies_and_segments(built):
    cerqual = table(built, "cerqual")
    if cerqual.empty:
        assert "No cross-site finding has been judged yet" in built.text
        return
    position = built.flat.index("Contributing studies (adequacy, computed)")
    for row in cerqual.to_dict("records"):
        for shown in (row["finding_id"], flat(row["finding"]),
                      f"{row['n_studies']} of {row['n_sites_total']} studies",
                      segments(row["n_segments"]), segments(row["n_disagreeing_segments"])):
            found = built.flat.find(shown, position)
            assert found >= 0, f"{row['finding_id']}: {shown!r} not shown"
            position = found


def test_coverage_table_shows_each_sites_paragraphs_and_share(built):
    for row in table(built, "coverage").to_dict("records"):
        share = "n/a" if row["share_coded"] == "" else f"{float(row['share_coded']):.1%}"
        assert (f"{names(built)[row['site']]} {row['n_paragraphs']} {row['n_coded']} {share}"
                in built.flat)


def test_agreement_of_a_second_coding_is_shown_per_category(built):
    agreement = built.tables.get("coder_agreement", pd.DataFrame(columns=["level"]))
    rows = agreement[agreement["level"] == "category"]
    if rows.empty:
        assert "No second coder has coded the same texts yet" in built.flat
        return
    assert "No second coder" not in built.flat
    for r in rows.to_dict("records"):
        stats = " ".join("n/a" if r[c] == "" else f"{float(r[c]):.2f}"
                         for c in ("cohen_kappa", "precision", "recall", "f1"))
        label = "all categories" if r["label"] == "(all)" else r["label"]
        shown = (f"{names(built)[r['site']]} {label} {r['n_units']} {r['coded_a']} {r['coded_b']} "
                 f"{r['coded_both']} {float(r['percent_agreement']):.1f}% {stats}")
        assert shown in built.flat, shown


def test_abstract_counts_equal_the_tables(built):
    counts = table(built, "category_counts")
    total = counts["n_segments"].astype(int).sum()
    n_sites = len(table(built, "studies"))
    abstract = built.flat[:built.flat.index("How to read this report")]
    assert f"compares {number_word(n_sites)} published qualitative case stud" in abstract
    assert f"gave {total} primary segment" in abstract


def test_the_abstract_says_how_many_findings_rest_on_a_single_study(built):
    cerqual = table(built, "cerqual")
    if cerqual.empty:
        pytest.skip("this corpus has no CERQual findings")
    single = int((cerqual["n_studies"].astype(int) == 1).sum())
    abstract = built.flat[:built.flat.index("How to read this report")]
    holds = f"The summary of findings holds {len(cerqual)} finding"
    assert holds in abstract
    assert (f"{single} of them resting on a single study" in abstract) == (single > 0)


def test_the_bibliographic_gaps_are_counted_as_partial_or_total_from_the_studies(built):
    studies = table(built, "studies")
    given = [sum(r[f] != "" for f in ("title", "authors", "year", "venue"))
             for _, r in studies.iterrows()]
    partial, none = sum(0 < n < 4 for n in given), given.count(0)
    text = built.flat[built.flat.index("the bibliographic details"):][:300]
    assert (f"{number_word(partial)} give" in text) == (partial > 0), text
    assert (f"{number_word(none)} give" in text and "none of them" in text) == (none > 0), text


@pytest.mark.parametrize("given, phrase", [
    ([2, 0, 0, 0], "of the four texts, one gives only in part and three give none of them"),
    ([4, 4], ""), ([4, 1], "of the two texts, one gives only in part"),
    ([0], "which its text gives none of them"), ([3], "which its text gives only in part")])
def test_the_bibliographic_gaps_read_right_for_one_text_or_many(given, phrase):
    assert report._gap_phrase(given, 4) == phrase


def test_the_limitation_on_coders_counts_the_studies_a_second_coder_coded(built):
    agreement = built.tables.get("coder_agreement", pd.DataFrame(columns=["site"]))
    n_second, n = agreement["site"].nunique(), len(table(built, "studies"))
    lead = ("One coder per study." if not n_second else "A second coder for every study."
            if n_second == n else
            f"A second coder for {number_word(n_second)} of the {number_word(n)} studies.")
    assert lead in built.flat, lead


def test_the_suggestions_appendix_says_in_words_what_each_lexicon_found(built):
    evaluation = built.tables.get("autocode_eval")
    if evaluation is None or evaluation.empty:
        pytest.skip("no evaluation of the suggestions for this corpus")
    pooled = evaluation[(evaluation["held_out_site"] == "(all)")
                        & (evaluation["category"] == "(all)")]
    assert len(pooled) == evaluation["lexicon"].nunique()
    for r in pooled.itertuples():
        said = (f"“{r.lexicon.replace('+', ' + ')}” made {r.coded_auto} suggestion"
                f"{'' if r.coded_auto == '1' else 's'} and found {r.coded_both} of the "
                f"{r.coded_hand} hand-coded units (recall {float(r.recall):.2f}")
        assert said in built.flat, said


def test_each_barrier_is_shown_once_with_its_sites_and_what_the_guidance_offers(built):
    bt = table(built, "barrier_training")
    book = pd.read_csv(built.layout.codebook_csv, dtype=str, keep_default_na=False)
    labels = dict(zip(book["code"], book["label_en"]))
    start = built.flat.index("Sites reporting it (segments)")
    for code, rows in bt.groupby("code"):
        r = rows.iloc[0]
        where = ", ".join(f"{names(built)[x.site]} ({x.n_site_segments})"
                          for x in rows.sort_values("site").itertuples())
        addressed = "yes" if r["addressed"] == "True" else "not addressed"
        shown = (f"{labels[code]} {where} {r['n_guidance_challenge']} {r['n_guidance_material']} "
                 f"{r['n_guidance_strategy']} {addressed}")
        assert built.flat.find(shown, start) >= 0, shown


def test_appraisal_answers_are_counted_per_study(built):
    appraisal = table(built, "appraisal")
    if appraisal.empty:
        return
    yes = appraisal[appraisal["answer"] == "yes"].groupby("site").size()
    asked = appraisal.groupby("site").size()
    sites = list(table(built, "studies")["site"])
    expected = " ".join(f"{int(yes.get(s, 0))} of {int(asked[s])}" if s in asked
                        else "not appraised" for s in sites)
    assert f"Questions answered Yes {expected}" in built.flat


def test_every_quote_shown_is_in_the_pdf_verbatim(built):
    from analysis.sources import load_corpus
    corpus = load_corpus(built.layout)
    shown = report.shown_quotes(report.read_back(built.layout, "segments"), corpus.guidance)
    assert len(shown)
    missing = [r.segment_id for r in shown.itertuples() if flat(r.quote) not in built.flat]
    # beta-001 holds an emoji, a glyph no bundled font has: typst drops it (docs/report.md)
    assert missing == (["beta-001"] if "beta" in set(shown["site"]) else [])


def test_two_builds_give_the_same_text_and_the_same_bytes(built, tmp_path):
    again = build(Layout(built.layout.data, tmp_path / "again"))
    assert again.text == built.text
    assert again.bytes == built.bytes, "same text, but the PDF bytes differ"


def test_fonts_are_embedded_and_only_the_bundled_ones(built):
    import pypdf
    reader = pypdf.PdfReader(io.BytesIO(built.bytes))
    names = set()
    for page in reader.pages:
        fonts = page["/Resources"].get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            for desc in font.get("/DescendantFonts", [font]):
                desc = desc.get_object()
                descriptor = desc["/FontDescriptor"].get_object()
                assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), \
                    f"font {desc['/BaseFont']} not embedded"
                names.add(str(desc["/BaseFont"]).split("+")[-1])
    assert names and all(n.startswith(("LibertinusSerif", "DejaVuSansMono")) for n in names), names


def test_build_writes_tables_figures_and_the_typst_source_and_reports_its_stages(built):
    out = built.layout.out
    for name in report.REPORT_TABLES:
        assert (out / "tables" / f"{name}.csv").exists(), name
    for category in ("dimension", "practice", "barrier", "outcome"):
        svg = (out / "figures" / f"framework_{category}.svg").read_text(encoding="utf-8")
        assert "<dc:date>" not in svg
    assert (out / "build" / "comparison.typ").read_text(encoding="utf-8").startswith("//")
    for stage in ("validating", "computing tables", "reading back tables", "writing figures",
                  "compiling pdf", "wrote"):
        assert f"report: {stage}" in built.stderr


def test_autocode_appendix_is_shown_exactly_when_its_table_has_rows(built):
    rows = len(built.tables.get("autocode_eval", []))
    assert ("Evaluation of automatic coding suggestions" in built.text) == (rows > 0)


# --------------------------------------------------------------------------- synthetic corpus only

def test_a_fifth_site_added_as_data_only_is_in_every_site_table(synthetic):
    assert "Epsilon Kantor Epsilon" in synthetic.flat  # Table 1
    assert "Case study of Epsilon (Kantor Epsilon)" in synthetic.flat  # references
    assert "Question Alpha Beta Delta Epsilon Gamma" in synthetic.flat  # CASP


def test_the_count_of_sites_in_title_and_abstract_follows_the_data(tmp_path):
    layout = build_corpus(tmp_path)
    for site in ("gamma", "delta"):
        add_case(layout, site, EXTRA_TEXTS[site], EXTRA_SHEETS[site])
    write(layout.data / "corpus.csv", ["key", "value"],
          [["title", "Synthetic corpus: {n_sites} offices"], ["date", DATE]])
    four = build(Layout(layout.data, tmp_path / "four"))
    add_case(layout, "epsilon", EXTRA_TEXTS["epsilon"], EXTRA_SHEETS["epsilon"])
    five = build(Layout(layout.data, tmp_path / "five"))
    assert "Synthetic corpus: four offices" in four.flat
    assert "compares four published qualitative case studies" in four.flat
    assert "Synthetic corpus: five offices" in five.flat
    assert "compares five published qualitative case studies" in five.flat
    assert "rests on five studies" in five.flat


def test_a_cerqual_finding_whose_contributing_sites_changed_is_to_be_reviewed(synthetic):
    cerqual = table(synthetic, "cerqual").set_index("finding_id")
    assert cerqual.loc["F1", "to_review"] == "False" and cerqual.loc["F2", "to_review"] == "True"
    assert "Explanation: Three studies; thin data." in synthetic.flat
    assert ("Judgment to be reviewed. Judged on Gamma; the coding now gives Alpha, Beta, Delta "
            "and Gamma. "
            "The explanation written then is not shown.") in synthetic.flat
    assert "Author claims only." not in synthetic.flat
    assert "1 judgment is to be reviewed" in synthetic.flat  # the abstract says so


def test_missing_metadata_says_whether_the_text_lacks_it_or_nobody_recorded_it(synthetic):
    # gamma's sources.csv notes say title, authors and year are not given; venue is not named
    assert ("Gamma not given in the text not given in the text not given in the text "
            "not yet recorded") in synthetic.flat  # Table 3
    assert "Venue not yet recorded" in synthetic.flat  # references


def test_references_list_every_source_and_limitations_say_who_gives_authors(synthetic):
    assert "Practitioner guidance: the reference for what training addresses." in synthetic.flat
    assert "Bimtek" in synthetic.flat[synthetic.flat.rindex("References"):]
    assert re.search(r"Authorship\. Of the six texts, .*for .*the training guidance.* no author "
                     r"is known", synthetic.flat)


def test_quotes_and_glosses_full_of_markup_characters_print_verbatim(synthetic):
    assert f"“{flat(MARKUP_QUOTE)}” epsilon-001" in synthetic.flat
    assert flat(MARKUP_GLOSS) in synthetic.flat
    assert "pelatihan [kerja] tim #1" in synthetic.flat
    assert "Reason 3 for gamma [see text]." in synthetic.flat


def test_missing_glosses_are_marked_in_the_pdf_and_listed_for_the_gloss_writer(synthetic):
    needed = needed_glosses(synthetic.layout)
    assert list(needed.columns) == ["segment_id", "site", "code", "quote"]
    assert set(needed["segment_id"]) == NOT_GLOSSED
    for sid in NOT_GLOSSED:
        assert re.search(rf"{sid} \(gloss missing\)", synthetic.flat), sid
    for sid, gloss in GLOSSED.items():
        assert f"{sid} {flat(gloss)}" in synthetic.flat, sid
    assert f"report: {len(NOT_GLOSSED)} quotes lack an English gloss" in synthetic.stderr


def test_the_glosses_command_says_how_many_quotes_lack_one_even_none(synthetic, capsys):
    data = str(synthetic.layout.data)
    assert report.main(["glosses", "--data", data]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1 + len(NOT_GLOSSED)
    assert err == f"{len(NOT_GLOSSED)} shown quotes lack an English gloss\n"


@pytest.mark.kit_data
def test_the_glosses_command_on_the_kits_data_says_every_shown_quote_has_one(capsys):
    assert report.main(["glosses"]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == ("segment_id,site,code,quote\n",
                          "every shown quote has an English gloss\n")


def test_cited_secondary_segments_are_left_out_of_the_counts(synthetic):
    matrix = table(synthetic, "site_code_matrix").set_index(["site", "code"])
    assert matrix.loc[("delta", "openness"), "state"] == "not_reported"
    assert "1 segment in which the authors report other studies" in synthetic.flat


def test_an_appendix_table_added_by_another_stage_is_included_and_rounded(synthetic):
    from analysis.sources import load_corpus
    layout = synthetic.layout
    corpus = load_corpus(layout)
    tables = {name: report.read_back(layout, name) for name in report.REPORT_TABLES}
    columns = ["held_out_site", "lexicon", "category", "n_units", "coded_hand", "coded_auto",
               "coded_both", "precision", "recall", "cohen_kappa", "note"]
    extra = {"autocode_eval": pd.DataFrame(
        [["epsilon", "seed+learned", "dimension", "12", "3", "4", "2", "0.5", "0.6667",
          "-0.0082", "#1 [x]"]], columns=columns)}
    figures = {c: f"/figures/framework_{c}.svg" for c in ("dimension", "practice", "barrier",
                                                          "outcome")}
    source = report.render_source(load_corpus_meta(layout), tables, corpus,
                                  load_glosses(layout, report._known_segment_ids(corpus)),
                                  figures, extra)
    text = flat(pdf_text(compile_pdf(source, layout.out, pd.Timestamp(DATE).date())))
    assert "Appendix C: Evaluation of automatic coding suggestions" in text
    assert "Held-out site Lexicon Category Sentences Hand-coded" in text
    assert "Epsilon seed + learned dimension 12 3 4 2 0.50 0.67 -0.01 #1 [x]" in text
    assert "“learned” uses only terms learned from the other sites’ coding" in text


def test_a_statistic_that_rounds_to_zero_reads_0_00_never_minus_0_00():
    assert report._number("-0.001") == "0.00" and report._stat("-0.004") == "0.00"
    assert report._number("-0.0004", "{:.1f}%") == "0.0%"
    assert report._number("-0.0082") == report._stat("-0.0082") == "-0.01"
    assert (report._number(""), report._stat("nan")) == ("n/a", "–")


def test_appendix_numbers_are_rounded_to_two_decimals(built):
    appendix = built.flat[built.flat.rindex("Appendix B: the data dictionary"):]
    assert not re.findall(r"\d\.\d{3,}", appendix)


# --------------------------------------------------------------------------- input errors

def test_a_gloss_for_an_unknown_segment_names_file_line_and_column(tiny):
    write(tiny.glosses_csv, ["segment_id", "gloss_en"],
          [["alpha-001", "open"], ["alpha-999", "no such segment"]])
    with pytest.raises(InputError) as info:
        needed_glosses(tiny)
    err = info.value
    assert err.file.endswith("glosses.csv") and (err.line, err.column) == (3, "segment_id")
    assert "unknown segment 'alpha-999'" in str(err)


def test_a_gloss_file_with_an_empty_gloss_is_an_error(tiny):
    write(tiny.glosses_csv, ["segment_id", "gloss_en"], [["alpha-001", ""]])
    with pytest.raises(InputError) as info:
        load_glosses(tiny, {"alpha-001"})
    assert (info.value.line, info.value.column) == (2, "gloss_en")


@pytest.mark.parametrize("date", ["23/11/2026", "20261123", "2026-W48-1", "2026-02-30",
                                  "２０２６-11-23"])
def test_the_data_date_must_be_a_date_written_yyyy_mm_dd(tiny, date):
    write(tiny.data / "corpus.csv", ["key", "value"], [["title", "T"], ["date", date]])
    with pytest.raises(InputError, match=r"is not a date \(expected YYYY-MM-DD\)") as info:
        load_corpus_meta(tiny)
    assert (info.value.line, info.value.column) == (3, "value")


def test_a_corpus_without_a_date_cannot_be_reported(tiny):
    write(tiny.data / "corpus.csv", ["key", "value"], [["title", "T"]])
    with pytest.raises(InputError, match="no 'date' row"):
        load_corpus_meta(tiny)


# --------------------------------------------------------------------------- real data

@pytest.mark.kit_data
def test_every_quote_the_report_shows_has_an_english_gloss():
    problems = real_data_problems()
    if problems:
        pytest.skip("real data does not validate yet: " + "; ".join(problems))
    if not Layout().glosses_csv.exists():
        pytest.skip("data/glosses.csv is not written yet (python -m analysis.report glosses "
                    "lists the quotes that need one)")
    missing = needed_glosses(Layout())
    assert missing.empty, ("quotes shown without a gloss in data/glosses.csv: "
                           + ", ".join(missing["segment_id"]))


@pytest.mark.parametrize("notes, field, wording", [
    ("Authors: not given in the text. Year: not given in the text.", "authors",
     "not given in the text"),
    ("Title, authors, year and venue not given in the text: the extraction begins ...", "venue",
     "not given in the text"),
    ("No informant is named; the only data are the author's observations.", "informants",
     "not given in the text"),
    ("No analysis procedure is named (analysis left empty).", "analysis", "not given in the text"),
    ("added by new-site; bibliographic fields to be filled from the text", "authors",
     "not yet recorded"),
    ("Authors: not given in the text.", "venue", "not yet recorded"),
    ("", "year", "not yet recorded"),
])
def test_an_empty_field_reads_not_given_only_when_the_notes_say_the_text_lacks_it(
        notes, field, wording):
    from analysis.views import missing_wording
    assert missing_wording(field, notes) == wording


def test_a_field_filled_in_from_a_public_record_names_that_record_in_the_references(built):
    sources = pd.read_csv(built.layout.sources_csv, dtype=str, keep_default_na=False)
    records = [url for url in sources.get("bib_source", pd.Series(dtype=str)) if url]
    if not records:
        pytest.skip("no source of this corpus has a field taken from a public record")
    references = built.flat[built.flat.rindex("References"):]
    for url in records:
        assert f"Filled in from a public record, not the text: {url}." in references


def test_a_site_without_accepted_coding_is_named_in_the_limitations(tmp_path):
    layout = build_corpus(tmp_path)
    add_case(layout, "gamma", EXTRA_TEXTS["gamma"], [])  # a header-only coding sheet
    with pytest.warns(InputWarning, match="site 'gamma' has no accepted coded segment"):
        done = build(Layout(layout.data, tmp_path / "out"))
    assert ("No accepted coding yet for Gamma. Its study shows every code as not reported"
            in done.flat)
    coded = build(Layout(build_corpus(tmp_path / "coded").data, tmp_path / "coded-out"))
    assert "No accepted coding yet" not in coded.flat
