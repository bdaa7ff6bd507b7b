"""Coding suggestions: stemming, the lexicon, matching, section guesses, learning, and the
leave-one-site-out evaluation (analysis.autocode)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import autocode
from analysis.autocode import (ALL, EVAL_COLUMNS, guess_sections, learn_terms, leave_one_site_out,
                               load_lexicon, match, sentence_units, stem_en, stem_id, suggest,
                               term_parts, words)
from analysis.errors import InputError, InputWarning
from analysis.paths import ROOT, Layout
from analysis.sources import load_corpus
from conftest import csv_text, published_four

LEXICON_HEADER = ["code", "language", "term", "weight", "note"]


def write_lexicon(layout: Layout, rows) -> None:
    layout.lexicon_csv.write_text(csv_text(LEXICON_HEADER, rows), encoding="utf-8")


def terms_of(*entries) -> pd.DataFrame:
    """Terms in the form match() takes: (code, term, weight, origin)."""
    return pd.DataFrame([(c, t, term_parts(t, "id"), w, o) for c, t, w, o in entries],
                        columns=["code", "term", "parts", "weight", "origin"])


# --------------------------------------------------------------------------- stemming

@pytest.mark.parametrize("forms, stem", [
    (["keterbukaan", "terbuka", "membuka"], "buka"),
    (["pelatihan", "dilatih"], "latih"),
    (["pelayanan", "layanan", "melayani"], "layan"),
    (["pimpinan", "pemimpin", "kepemimpinan"], "pimpin"),
    (["meningkatkan", "peningkatan"], "tingkat"),
    (["menyampaikan"], "sampai"),
    (["mendukung", "dukungan", "dukungannya"], "dukung"),
    (["bekerja", "kerja"], "kerja"),
    (["perhatian", "memperhatikan"], "hati"),
    (["keterbatasan", "terbatas"], "batas"),
])
def test_indonesian_affixes_are_stripped_to_a_shared_stem(forms, stem):
    assert {stem_id(f) for f in forms} == {stem}


def test_protected_and_short_words_stay_whole():
    assert stem_id("masalah") == "masalah"  # not masa + -lah
    assert stem_id("permasalahan") == "masalah"
    assert stem_id("distrik") == "distrik"
    assert stem_id("Kerja") == "kerja"  # lower-cased; too short to strip ke-


def test_english_words_lose_plural_and_verb_endings():
    assert stem_en("evaluations") == stem_en("evaluation")
    assert stem_en("delays") == stem_en("delayed") == "delay"


def test_words_join_line_break_hyphenation_and_split_other_hyphens():
    assert words("Pelaya-\nnan publik") == ["pelayanan", "publik"]
    assert words("Sistem e-Gov 2024") == ["sistem", "e", "gov"]


# --------------------------------------------------------------------------- matching

def units_of(text: str) -> pd.DataFrame:
    smap = pd.DataFrame([("s", "results", 0, len(text), "")],
                        columns=["source_id", "section", "start", "end", "heading"])
    return sentence_units(text, "s", smap, "id")


def test_a_phrase_matches_only_consecutive_words_in_any_inflection():
    units = units_of("Pegawai bekerja sama dengan baik. Kerja tim sama pentingnya.")
    hits = match(units, terms_of(("collaboration", "kerja sama", 1.0, "lexicon")))
    assert hits["sentence_no"].tolist() == [1]


def test_a_term_with_plus_matches_its_parts_anywhere_in_the_sentence():
    units = units_of("Pelatihan berkala masih kurang. Pelatihan diberikan setiap bulan.")
    hits = match(units, terms_of(("training_gap", "kurang + pelatihan", 1.0, "lexicon")))
    assert hits["sentence_no"].tolist() == [1]


def test_a_code_is_suggested_when_its_matched_weights_reach_the_threshold():
    units = units_of("Kepala kantor terbuka. Kepala kantor transparan dan terbuka.")
    terms = terms_of(("openness", "terbuka", 0.5, "learned"),
                     ("openness", "transparan", 0.5, "learned"))
    found = suggest(units, terms)
    assert found["sentence_no"].tolist() == [2]
    assert found["score"].tolist() == [autocode.THRESHOLD]
    assert "'terbuka' (learned, 0.5)" in found["matched"].iloc[0]


def test_suggestions_skip_headings_and_sections_that_are_not_coded():
    text = ("Abstrak\nKepala kantor terbuka.\n\nTinjauan Pustaka\nKeterbukaan itu penting.\n\n"
            "Hasil\nKeterbukaan Pegawai\nPimpinan selalu terbuka.\n")
    smap = guess_sections(text, "s")
    found = suggest(sentence_units(text, "s", smap, "id"),
                    terms_of(("openness", "terbuka", 1.0, "lexicon")))
    quotes = [text[s:e] for s, e in zip(found["start"], found["end"])]
    assert quotes == ["Kepala kantor terbuka.", "Pimpinan selalu terbuka."]
    assert found["section"].tolist() == ["abstract", "results"]


# --------------------------------------------------------------------------- section maps

def test_section_map_is_guessed_from_headings_and_covers_the_text():
    text = ("Judul Studi\n\nABSTRAK\nRingkasan.\n\nI. PENDAHULUAN\nLatar.\n\n"
            "III. METODELOGI PENELITIAN\nWawancara.\n\nIV.  HASIL DAN PEMBAHASAN\n"
            "4.1. Analisis Faktor\nTemuan.\n\nV. SIMPULAN\nPenutup.\n\n"
            "Daftar Pustaka\nA. (2020).\n")
    smap = guess_sections(text, "s")
    assert smap["section"].tolist() == ["front_matter", "abstract", "background", "method",
                                        "results", "conclusion", "references"]
    assert smap["start"].iloc[0] == 0 and smap["end"].iloc[-1] == len(text)
    assert (smap["start"].iloc[1:].to_numpy() == smap["end"].iloc[:-1].to_numpy()).all()
    assert smap["heading"].iloc[4] == "IV.  HASIL DAN PEMBAHASAN"


def test_a_text_without_section_headings_is_one_results_span():
    text = "Pimpinan terbuka kepada staf. Pegawai disiplin.\n"
    smap = guess_sections(text, "s")
    assert smap[["section", "start", "end"]].values.tolist() == [["results", 0, len(text)]]


def test_an_english_abstract_heading_is_abstract_en_in_an_indonesian_text():
    assert autocode.heading_section("Abstract", "id") == "abstract_en"
    assert autocode.heading_section("Abstract", "en") == "abstract"


# --------------------------------------------------------------------------- lexicon file

def test_the_lexicon_loads_with_weight_one_by_default(tiny):
    write_lexicon(tiny, [["openness", "id", "terbuka", "", ""],
                         ["timeliness", "id", "terlambat", "0.5", "late"]])
    lexicon = load_lexicon(tiny.lexicon_csv, load_corpus(tiny).codebook)
    assert lexicon["weight"].tolist() == [1.0, 0.5]


@pytest.mark.parametrize("row, column, message", [
    (["alpha_open_door", "id", "pintu terbuka", "", ""], "code", "not a canonical code"),
    (["openness", "fr", "ouvert", "", ""], "language", "not allowed"),
    (["openness", "id", "terbuka", "heavy", ""], "weight", "does not match"),
    (["openness", "id", "2024", "", ""], "term", "without a word"),
    (["openness", "id", "Terbuka", "", ""], "term", "duplicate term"),
])
def test_a_bad_lexicon_row_is_named_by_line_and_column(tiny, row, column, message):
    write_lexicon(tiny, [["openness", "id", "terbuka", "", ""], row])
    with pytest.raises(InputError) as err:
        load_lexicon(tiny.lexicon_csv, load_corpus(tiny).codebook)
    assert (err.value.line, err.value.column) == (3, column)
    assert message in str(err.value)


@pytest.mark.kit_data
def test_the_kit_lexicon_is_valid_and_covers_every_canonical_code():
    corpus = load_corpus()
    lexicon = load_lexicon(ROOT / "data" / "lexicon.csv", corpus.codebook)
    canonical = set(corpus.codebook.loc[corpus.codebook["parent"] == "", "code"])
    assert set(lexicon.loc[lexicon["language"] == "id", "code"]) == canonical
    assert set(lexicon.loc[lexicon["language"] == "en", "code"]) == canonical


# --------------------------------------------------------------------------- learning

def units_for_learning(rows) -> pd.DataFrame:
    """(site, sentence text, codes) -> training units."""
    return pd.DataFrame({
        "site": [r[0] for r in rows], "source_id": [r[0] for r in rows],
        "sentence_no": range(1, len(rows) + 1),
        "stems": [tuple(autocode.stems(r[1], "id")) for r in rows],
        "codes": [tuple(sorted(r[2])) for r in rows]})


def test_a_term_is_learned_when_frequent_precise_and_seen_at_two_sites():
    rows = [("a", "Rapat koordinasi mingguan.", {"collaboration"}),
            ("a", "Koordinasi antarbagian lancar.", {"collaboration"}),
            ("b", "Koordinasi dengan kecamatan.", {"collaboration"}),
            ("b", "Koordinasi tidak dibahas.", set()),
            ("a", "Sorotan kantor mesuji.", {"openness"}),
            ("a", "Sorotan kantor lagi.", {"openness"}),
            ("a", "Sorotan kantor terakhir.", {"openness"})]
    learned = learn_terms(units_for_learning(rows), "id")
    assert learned[["code", "term"]].values.tolist() == [["collaboration", "koordinasi"]]
    assert learned[["n_sentences", "n_coded", "n_sites", "weight"]].values.tolist() == \
        [[4, 3, 2, 0.75]]  # "sorotan" and "kantor": one site only; "dengan": a stopword


@pytest.mark.parametrize("in_site_order", [False, True], ids=["sites_mixed", "site_order"])
@pytest.mark.parametrize("chunk", [1, 2, 10_000])
def test_term_counts_count_each_sentence_once_per_stem_site_and_code(chunk, in_site_order,
                                                                      monkeypatch):
    """The integer-id counting equals a plain count over (site, stem) and (site, code,
    stem): a stem twice in a sentence counts once, stop words and short stems never;
    whatever the chunks the units are counted in, and whether or not the units come in
    site order (then a site's counts from two chunks are added up)."""
    from collections import Counter

    monkeypatch.setattr(autocode, "TERM_COUNT_CHUNK", chunk)
    rows = [("b", "Koordinasi koordinasi rapat dengan camat.", {"collaboration", "openness"}),
            ("a", "Rapat koordinasi mingguan di kantor.", {"collaboration"}),
            ("a", "", {"openness"}),
            ("c", "Pegawai terbuka, pegawai mendengar.", set()),
            ("a", "Koordinasi dan keterbukaan pegawai.", {"openness", "collaboration"})]
    if in_site_order:
        rows.sort(key=lambda row: row[0])
    units = units_for_learning(rows)
    stop = autocode._stopword_stems("id")
    distinct = [{s for s in stems if len(s) >= autocode.LEARN_MIN_LENGTH and s not in stop}
                for stems in units["stems"]]
    want_stems = Counter((site, s) for site, ss in zip(units["site"], distinct) for s in ss)
    want_pairs = Counter((site, c, s) for site, ss, cs in zip(units["site"], distinct,
                                                              units["codes"])
                         for c in cs for s in ss)
    counts = autocode._term_counts(units, "id")
    per_stem, per_pair = counts.per_stem(), counts.per_pair()
    assert [tuple(r) for r in per_stem.values.tolist()] == \
        sorted((*k, n) for k, n in want_stems.items())
    assert [tuple(r) for r in per_pair.values.tolist()] == \
        sorted((*k, n) for k, n in want_pairs.items())
    assert ("b", "koordinasi", 1) in [tuple(r) for r in per_stem.values.tolist()]
    assert not any(s in stop for s in per_stem["stem"])
    # over every site, per code and stem; and a site's own counts, 0 where it has none
    totals = counts.totals().set_index(["code", "stem"])
    koordinasi = totals.loc[("collaboration", "koordinasi")]
    assert (koordinasi["n_coded"], koordinasi["n_sites"], koordinasi["n_sentences"],
            koordinasi["most"]) == (3, 2, 3, 2)
    own_coded, own_sentences = counts.own(pd.Series(["a", "b", "c", "zeta"]),
                                          pd.Series(["collaboration"] * 4),
                                          pd.Series(["koordinasi"] * 4))
    assert own_coded.tolist() == [2, 1, 0, 0] and own_sentences.tolist() == [2, 1, 0, 0]


def test_count_chunks_never_split_a_site_and_cover_every_row(monkeypatch):
    monkeypatch.setattr(autocode, "TERM_COUNT_CHUNK", 3)
    site = np.array([0, 0, 0, 0, 0, 1, 1, 2, 3, 3, 3, 4])
    chunks = autocode._site_chunks(site)
    assert chunks == [(0, 5), (5, 8), (8, 11), (11, 12)]  # a site of 5 rows stays whole
    assert autocode._site_chunks(np.array([], dtype=np.int64)) == []


def test_counts_of_chunks_are_added_up_in_or_out_of_order():
    def part(*columns):
        return tuple(np.array(c, dtype=np.int64) for c in columns)

    in_order = autocode._count_keys([part([1, 4], [2, 1]), part([], []), part([7], [5])])
    assert [a.tolist() for a in in_order] == [[1, 4, 7], [2, 1, 5]]
    overlapping = autocode._count_keys([part([4, 9], [1, 1], [1, 1]),
                                        part([1, 4], [2, 3], [1, 1])], width=3)
    assert [a.tolist() for a in overlapping] == [[1, 4, 9], [2, 4, 1], [1, 2, 1]]
    assert [a.tolist() for a in autocode._count_keys([])] == [[], []]
    assert [a.tolist() for a in autocode._count_keys([], width=3)] == [[], [], []]


def test_per_site_counts_are_kept_for_the_pairs_asked_for_and_totals_do_not_change():
    rows = [("a", "Rapat koordinasi mingguan.", {"collaboration"}),
            ("b", "Koordinasi rapat camat.", {"collaboration", "openness"}),
            ("a", "Pegawai terbuka.", {"openness"})]
    units = units_for_learning(rows)
    every = autocode._term_counts(units, "id")
    only = autocode._term_counts(units, "id",
                                 keep_pairs=lambda t: (t["stem"] == "koordinasi").to_numpy())
    none = autocode._term_counts(units, "id", keep_pairs=lambda t: np.zeros(len(t), bool))
    pd.testing.assert_frame_equal(only.totals(), every.totals())
    pd.testing.assert_frame_equal(none.totals(), every.totals())
    pairs = every.per_pair()
    assert only.per_pair().values.tolist() == \
        pairs[pairs["stem"] == "koordinasi"].values.tolist()
    assert none.per_pair().empty and set(pairs["stem"]) > {"koordinasi"}


def test_places_are_joined_as_an_inner_merge_on_source_and_sentence():
    places = pd.DataFrame({"source_id": ["b", "a", "a", "b"], "sentence_no": [2, 1, 2, 1],
                           "start": [30, 0, 10, 0], "section": ["results"] * 3 + ["abstract"]})
    rows = pd.DataFrame({"source_id": ["a", "b", "c", "a", "b"],
                         "sentence_no": [2, 1, 1, 2, 9], "code": ["x", "y", "z", "w", "v"]})
    want = rows.merge(places, on=["source_id", "sentence_no"])
    pd.testing.assert_frame_equal(autocode._with_places(rows, places), want)
    assert autocode._with_places(rows, places)["code"].tolist() == ["x", "y", "w"]
    pd.testing.assert_frame_equal(autocode._with_places(rows.iloc[:0], places),
                                  rows.iloc[:0].merge(places, on=["source_id", "sentence_no"]))


def test_no_training_sentence_counts_nothing():
    counts = autocode._term_counts(units_for_learning([]), "id",
                                   keep_pairs=autocode._can_pass_in_some_fold)
    assert counts.totals().empty and counts.per_stem().empty and counts.per_pair().empty


def test_a_term_below_the_precision_floor_is_not_learned():
    rows = [("a", "Kinerja naik.", {"individual_performance"}),
            ("b", "Kinerja naik lagi.", {"individual_performance"}),
            ("b", "Kinerja tim naik.", {"individual_performance"}),
            ("a", "Kinerja dibahas.", set()), ("a", "Kinerja diukur.", set()),
            ("b", "Kinerja dinilai.", set()), ("b", "Kinerja disebut.", set())]
    learned = learn_terms(units_for_learning(rows), "id")
    assert "kinerja" not in set(learned["term"])


# --------------------------------------------------------------------------- evaluation

def test_evaluation_compares_suggestions_with_hand_coding_by_category(tiny):
    write_lexicon(tiny, [["openness", "id", "terbuka", "", ""],
                         ["infrastructure", "id", "sarana", "", ""]])
    table = leave_one_site_out(load_corpus(tiny))
    assert list(table.columns) == EVAL_COLUMNS
    row = table[(table["held_out_site"] == "alpha") & (table["lexicon"] == "seed+learned")
                & (table["category"] == "dimension")].iloc[0]
    # "Pimpinan terbuka kepada staf." is hand-coded alpha_open_door (openness) and suggested
    assert (row["coded_hand"], row["coded_auto"], row["coded_both"]) == (1, 1, 1)
    assert (row["precision"], row["recall"]) == (1.0, 1.0)
    barrier = table[(table["held_out_site"] == "alpha") & (table["lexicon"] == "seed+learned")
                    & (table["category"] == "barrier")].iloc[0]
    assert barrier["coded_auto"] == 0 and barrier["note"].startswith("no suggestion")
    assert pd.isna(barrier["precision"])


def test_evaluation_has_every_category_per_held_out_site_and_a_pooled_site(tiny):
    write_lexicon(tiny, [["openness", "id", "terbuka", "", ""]])
    table = leave_one_site_out(load_corpus(tiny))
    expected = [(site, lexicon, category) for site in ("alpha", "beta", ALL)
                for lexicon in ("learned", "seed+learned")
                for category in ("dimension", "practice", "barrier", "outcome", ALL)]
    assert sorted(map(tuple, table[["held_out_site", "lexicon", "category"]].values)) == \
        sorted(expected)
    pooled = table[(table["held_out_site"] == ALL) & (table["category"] == ALL)]
    per_site = table[(table["held_out_site"] != ALL) & (table["category"] == ALL)]
    assert pooled["coded_both"].sum() == per_site["coded_both"].sum()


def three_site_corpus(root) -> Layout:
    """Sites alpha (two sentences with 'koordinasi' coded collaboration), beta and gamma
    (one each), so that the stem is learned from all three, or from alpha with one
    other site, but not from beta and gamma alone."""
    from conftest import write_corpus

    texts = {
        "alpha": "Hasil\n\nKoordinasi rapat berjalan baik. Koordinasi antarbagian lancar. "
                 "Pegawai hadir.\n",
        "beta": "Hasil\n\nKoordinasi dengan kecamatan rutin. Pegawai hadir.\n",
        "gamma": "Hasil\n\nKoordinasi program berjalan. Pegawai hadir.\n",
    }
    sheets = {site: [(q, "collaboration", "positive", "results")
                     for q in text.split("\n")[2].split(". ") if q.startswith("Koordinasi")]
              for site, text in texts.items()}
    return write_corpus(root, texts, sheets, [("collaboration", "", "practice")])


def test_the_held_out_site_coding_is_never_learned_from(tmp_path):
    corpus = load_corpus(three_site_corpus(tmp_path))
    everywhere = learn_terms(autocode.training_units(
        corpus.texts, corpus.sections, corpus.sources, corpus.coding, corpus.codebook,
        ["alpha", "beta", "gamma"], "id"), "id")
    assert everywhere["term"].tolist() == ["koordinasi"]  # from all three sites
    table = leave_one_site_out(corpus).set_index(["held_out_site", "lexicon", "category"])
    # held out, alpha leaves beta and gamma: two coded sentences, below the floor of three
    assert table.loc[("alpha", "learned", "practice"), "coded_auto"] == 0
    # beta and gamma keep alpha's two sentences in their training: the stem is learned
    assert table.loc[("beta", "learned", "practice"), "coded_auto"] == 1
    assert table.loc[("gamma", "learned", "practice"), "coded_both"] == 1


def test_evaluation_counts_are_those_of_sentence_agreement_on_each_held_out_site(tiny):
    from analysis.agreement import sentence_agreement
    from analysis.text import corpus_sentences

    write_lexicon(tiny, [["openness", "id", "terbuka", "", ""],
                         ["individualism", "id", "secara individual", "", ""],
                         ["timeliness", "id", "terlambat", "", ""],
                         ["infrastructure", "id", "sarana", "", ""]])
    corpus = load_corpus(tiny)
    table = leave_one_site_out(corpus).set_index(["held_out_site", "lexicon", "category"])
    lexicon = autocode.corpus_lexicon(corpus)
    for held_out, other in (("alpha", "beta"), ("beta", "alpha")):
        terms = autocode.suggestion_terms(corpus, "id", [other], lexicon)
        auto = autocode.suggestions_for_text(corpus.texts[held_out], held_out, terms)
        hand = corpus.coding[corpus.coding["site"] == held_out]
        expected = sentence_agreement(hand, auto, corpus_sentences(
            {held_out: corpus.texts[held_out]}), by="category", codebook=corpus.codebook)
        for row in expected[expected["category"] != ALL].itertuples():
            got = table.loc[(held_out, "seed+learned", row.category)]
            assert (got["coded_hand"], got["coded_auto"], got["coded_both"], got["n_units"]) \
                == (row.coded_a, row.coded_b, row.coded_both, row.n_units)
        assert expected["coded_b"].sum() > 0


def test_coded_units_are_the_units_of_sentence_agreement_over_several_sources():
    from analysis.agreement import coded_sentences
    from analysis.text import corpus_sentences

    texts = {"a": "Satu dua. Tiga empat.  Lima enam.", "b": "Tujuh. Delapan sembilan."}
    sentences = corpus_sentences(texts)
    book = pd.DataFrame({"code": ["x", "y"], "category": ["dimension", "barrier"]})
    segments = pd.DataFrame([("a", 4, 14, "x"),    # spans sentences 1 and 2
                             ("a", 21, 22, "y"),   # white space between sentences: none
                             ("a", 23, 27, "x"),   # inside sentence 3
                             ("b", 0, 6, "y"),     # first sentence of the second source
                             ("b", 7, 15, "y")],
                            columns=["source_id", "start", "end", "code"])
    got = autocode.coded_units(segments, sentences, book, "category")
    expected = coded_sentences(segments, sentences, by="category", codebook=book)
    assert got.values.tolist() == expected.values.tolist()
    assert got.values.tolist() == [["a", 1, "dimension"], ["a", 2, "dimension"],
                                   ["a", 3, "dimension"], ["b", 1, "barrier"],
                                   ["b", 2, "barrier"]]


def test_evaluation_is_empty_with_fewer_than_two_coded_sites(tiny):
    sheet = tiny.coding_csv("beta")  # header only: a site without coded segments
    sheet.write_text(sheet.read_text(encoding="utf-8").split("\n")[0] + "\n", encoding="utf-8")
    with pytest.warns(InputWarning, match="site 'beta' has no accepted coded segment"):
        corpus = load_corpus(tiny)
    table = leave_one_site_out(corpus)
    assert table.empty and list(table.columns) == EVAL_COLUMNS


def test_evaluation_is_deterministic(tiny):
    write_lexicon(tiny, [["openness", "id", "terbuka", "", ""]])
    corpus = load_corpus(tiny)
    assert leave_one_site_out(corpus).equals(leave_one_site_out(corpus))


# --------------------------------------------------------------------------- the kit's data

REAL = ROOT / "data" / "coding"


@pytest.mark.kit_data
@pytest.mark.skipif(not any(REAL.glob("*.csv")), reason="the kit's coding sheets are not there")
def test_published_four_studies_pooled_evaluation_numbers_are_quoted_in_the_docs():
    table = leave_one_site_out(published_four(load_corpus()))
    doc = (ROOT / "docs" / "new_site.md").read_text(encoding="utf-8")
    pooled = table[(table["held_out_site"] == ALL) & (table["category"] == ALL)]
    for row in pooled.itertuples():
        for value in (row.precision, row.recall, row.cohen_kappa):
            if pd.notna(value):
                assert f"{value:.2f}" in doc, (row.lexicon, value)


@pytest.mark.kit_data
def test_docs_state_the_fixed_values_the_code_uses():
    doc = (ROOT / "docs" / "new_site.md").read_text(encoding="utf-8")
    for name in ("THRESHOLD", "SITE_THRESHOLD", "NEGATIVE_WINDOW", "LEARN_MIN_SENTENCES",
                 "LEARN_MIN_SITES", "LEARN_MIN_PRECISION", "LEARN_MIN_LENGTH", "MIN_STEM"):
        assert f"| `{name}` | {getattr(autocode, name):g} |" in doc, name
    for section in autocode.SUGGEST_SECTIONS:
        assert f"`{section}`" in doc


# --------------------------------------------------------------------------- cues

def test_a_negative_part_needs_a_problem_word_near_the_term():
    units = units_of("Sarana kerja sudah memadai. Sarana kerja masih kurang. "
                     "Sarana kerja ada di kantor kecamatan yang baru dibangun tahun lalu "
                     "oleh pemerintah kabupaten dan belum dipakai.")
    hits = match(units, terms_of(("infrastructure", "sarana + <negative>", 1.0, "lexicon")))
    # the third sentence has 'belum', but further than NEGATIVE_WINDOW words from 'sarana'
    assert hits["sentence_no"].tolist() == [2]
    assert autocode.NEGATIVE_WINDOW < 14


def test_a_not_part_keeps_a_term_out_of_sentences_with_that_word():
    units = units_of("Arahan camat jelas. Informasi itu tidak jelas.")
    hits = match(units, terms_of(("clear_instructions", "jelas + !tidak", 1.0, "lexicon")))
    assert hits["sentence_no"].tolist() == [1]


def test_aim_and_method_sentences_get_no_suggestion_unless_they_report_a_finding():
    text = ("Tujuan penelitian ini adalah untuk mengetahui keterbukaan pimpinan. "
            "Teknik pengumpulan data melalui wawancara yang terbuka. "
            "Hasil penelitian menunjukkan bahwa pimpinan terbuka kepada staf.")
    found = suggest(units_of(text), terms_of(("openness", "terbuka", 1.0, "lexicon")))
    assert found["sentence_no"].tolist() == [3]
    assert autocode.is_frame_sentence(tuple(autocode.stems(
        "Teknik pengumpulan data melalui wawancara.", "id")), "id")


def test_the_memo_names_the_negative_cues_of_a_sentence():
    found = suggest(units_of("Kerjasama antarpegawai masih kurang."),
                    terms_of(("collaboration", "kerjasama", 1.0, "lexicon")))
    assert found["matched"].tolist() == ["'kerjasama' (lexicon, 1); negative cue 'kurang'"]


def test_sebelum_is_not_read_as_belum():
    assert stem_id("sebelum") == "sebelum"
    assert autocode.negative_cues(tuple(autocode.stems("Apel sebelum bekerja.", "id")), "id") == []


def test_a_lexicon_term_needs_a_part_that_must_occur(tiny):
    write_lexicon(tiny, [["infrastructure", "id", "<negative> + !tidak", "", ""]])
    with pytest.raises(InputError, match=r"lexicon\.csv:2: column 'term'.*must occur"):
        load_lexicon(tiny.lexicon_csv, load_corpus(tiny).codebook)


# --------------------------------------------------------------------------- site level

def test_a_site_gets_a_code_when_its_sentence_scores_reach_the_site_threshold():
    suggestions = pd.DataFrame({"code": ["openness", "openness", "equality"],
                                "score": [1.0, 2.0, 0.5]})
    found = autocode.site_codes(suggestions)
    assert found["code"].tolist() == ["openness"]
    assert found["evidence"].tolist() == [3.0] and found["n_sentences"].tolist() == [2]


STUDIES_HEADER = ["id", "split", "language", "title", "url", "office", "note"]
READINGS_HEADER = ["id", "code", "valence", "justification"]


def write_devset(directory, studies, readings):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "studies.csv").write_text(csv_text(STUDIES_HEADER, studies), encoding="utf-8")
    (directory / "readings.csv").write_text(csv_text(READINGS_HEADER, readings),
                                            encoding="utf-8")


def study(study_id, split):
    return [study_id, split, "id", "A study", "https://example.org/" + study_id, "Kantor X", ""]


@pytest.fixture(scope="module")
def codebook():
    from analysis.sources import load_codebook
    return load_codebook(Layout.of())


@pytest.mark.kit_data
def test_devset_readings_must_name_a_study_and_a_canonical_code(tmp_path, codebook):
    write_devset(tmp_path, [study("a", "tune")], [["b", "openness", "positive", "x"]])
    with pytest.raises(InputError, match=r"readings\.csv:2: column 'id'.*'b' is not a study"):
        autocode.load_devset(tmp_path, codebook)
    write_devset(tmp_path, [study("a", "tune")], [["a", "mesuji_family_support", "", "x"]])
    with pytest.raises(InputError, match=r"readings\.csv:2: column 'code'.*not a canonical"):
        autocode.load_devset(tmp_path, codebook)


@pytest.mark.kit_data
def test_devset_evaluation_compares_site_level_codes_per_study_and_per_split(tmp_path,
                                                                             codebook):
    write_devset(tmp_path, [study("a", "tune"), study("b", "held_out")],
                 [["a", "openness", "positive", "x"], ["a", "equality", "positive", "x"],
                  ["b", "openness", "positive", "x"]])
    studies, readings = autocode.load_devset(tmp_path, codebook)
    texts = {"a": "Pimpinan selalu terbuka kepada staf.",
             "b": "Pimpinan terbuka dan setara dengan staf."}
    terms = {"id": terms_of(("openness", "terbuka", 1.0, "lexicon"),
                            ("equality", "setara", 1.0, "lexicon"))}
    table = autocode.devset_evaluation(studies, readings, texts, terms)
    assert table.columns.tolist() == autocode.DEVSET_COLUMNS
    rows = {(r.split, r.study): r for r in table.itertuples()}
    assert list(rows) == [("tune", "a"), ("tune", ALL), ("held_out", "b"), ("held_out", ALL)]
    a, b = rows["tune", "a"], rows["held_out", "b"]
    assert (a.n_read, a.n_suggested, a.n_both, a.precision, a.recall) == (2, 1, 1, 1.0, 0.5)
    assert a.missed == "equality" and a.extra == ""
    assert (b.n_read, b.n_suggested, b.n_both, b.precision, b.recall) == (1, 2, 1, 0.5, 1.0)
    assert b.extra == "equality"


@pytest.mark.kit_data
def test_devset_command_names_a_missing_text(tmp_path, capsys):
    status = autocode.main(["devset", "--texts", str(tmp_path)])
    assert status == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(tmp_path) in err and ".txt" in err
    assert "missing" in err
    assert "Traceback" not in err


RESERVED = ("ngaglik", "protokol", "klaten", "pendidikan dasar")
"""Offices reserved for an independent evaluation of the suggestions (issue 14)."""


@pytest.mark.kit_data
def test_the_committed_devset_loads_is_split_and_avoids_the_reserved_offices(codebook):
    studies, readings = autocode.load_devset(ROOT / "data" / "devset", codebook)
    assert set(studies["split"]) == set(autocode.DEVSET_SPLITS)
    assert set(readings["id"]) == set(studies["id"])
    for row in studies.itertuples():
        described = f"{row.id} {row.title} {row.office} {row.url}".lower()
        assert not any(word in described for word in RESERVED), row.id
