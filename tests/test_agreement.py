"""Agreement statistics: published worked examples, edge cases, bad input, the command."""

from __future__ import annotations

import importlib.util
import json
import math
import zipfile

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.inter_rater import cohens_kappa

from analysis.agreement import (
    ALL, agreement_table, binary_agreement, character_agreement, character_summary,
    coded_sentences, cohen_kappa, fleiss_kappa, krippendorff_alpha, percent_agreement,
    presence_agreement, ratings_summary, read_ratings, sentence_agreement)
from analysis.cli import main
from analysis.errors import InputError
from analysis.paths import ROOT
from analysis.text import corpus_sentences, sentences

from conftest import CODING_HEADER, csv_text


def ratings_of(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["unit", "coder", "value"]).astype(str)


def wide_to_ratings(by_coder: dict[str, list]) -> pd.DataFrame:
    """Coder -> values per unit (None = skipped) as long-form ratings."""
    return ratings_of([(unit, coder, value) for coder, values in by_coder.items()
                       for unit, value in enumerate(values, 1) if value is not None])


# --------------------------------------------------------------------------- worked examples

# Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for
# Communication, University of Pennsylvania, section C: 4 observers, 12 units, values 1-5,
# missing values; nominal alpha = 0.743.
KRIPPENDORFF_2011 = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}

# Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychological
# Bulletin 76(5), 378-382; the worked example of Wikipedia "Fleiss' kappa": 10 subjects, 14
# raters, 5 categories, n_ij = raters who put subject i in category j. P-bar = 0.378,
# P-bar_e = 0.213, kappa = 0.210.
FLEISS_COUNTS = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]

# Cohen's kappa, 2 x 2 example (Wikipedia "Cohen's kappa"): 50 grant proposals read by
# A and B; both yes 20, A yes B no 5, A no B yes 10, both no 15. p_o = 0.70, p_e = 0.50,
# kappa = 0.40.
COHEN_2X2 = [("yes", "yes", 20), ("yes", "no", 5), ("no", "yes", 10), ("no", "no", 15)]


def fleiss_ratings() -> pd.DataFrame:
    rows = []
    for unit, counts in enumerate(FLEISS_COUNTS, 1):
        raters = iter(f"r{k:02d}" for k in range(1, 15))
        rows += [(unit, next(raters), category) for category, n in enumerate(counts, 1)
                 for _ in range(n)]
    return ratings_of(rows)


def cohen_ratings() -> pd.DataFrame:
    rows, unit = [], 0
    for a, b, n in COHEN_2X2:
        for _ in range(n):
            unit += 1
            rows += [(unit, "A", a), (unit, "B", b)]
    return ratings_of(rows)


def test_krippendorff_2011_nominal_example_gives_alpha_0743():
    alpha = krippendorff_alpha(wide_to_ratings(KRIPPENDORFF_2011), resamples=200)
    assert round(alpha.value, 3) == 0.743
    assert alpha.n_units == 11  # unit 12 has a single value: not pairable
    assert alpha.ci_low < alpha.value <= alpha.ci_high <= 1


def test_fleiss_1971_example_gives_kappa_0210():
    ratings = fleiss_ratings()
    assert round(fleiss_kappa(ratings).value, 3) == 0.210
    assert round(percent_agreement(ratings).value / 100, 3) == 0.378  # P-bar


def test_cohen_2x2_example_gives_kappa_040_with_asymptotic_interval():
    ratings = cohen_ratings()
    assert percent_agreement(ratings).value == pytest.approx(70.0)
    kappa = cohen_kappa(ratings)
    assert round(kappa.value, 3) == 0.400
    reference = cohens_kappa(np.array([[20, 5], [10, 15]]))  # rows A, columns B
    assert kappa.ci_low == pytest.approx(reference.kappa_low)
    assert kappa.ci_high == pytest.approx(reference.kappa_upp)
    assert kappa.ci_high - kappa.value == pytest.approx(kappa.value - kappa.ci_low)


def test_nvivo_percentage_agreement_example_is_85_percent():
    # NVivo help, "How is the percentage agreement calculated?": a 1000-character source,
    # 50 characters coded by both users, 150 by only one, 800 by neither -> 85 %.
    segments = segment_frame([("doc", "ann", "g-ann", "topic", 0, 150),
                              ("doc", "bob", "g-bob", "topic", 100, 200)])
    row = character_agreement(segments, {"doc": 1000}, "ann", "bob").iloc[0]
    assert (row.chars_a, row.chars_b, row.chars_both, row.chars_neither) == (150, 100, 50, 800)
    assert row.percent_agreement == pytest.approx(85.0)
    expected = (150 * 100 + 850 * 900) / 1000**2
    assert row.cohen_kappa == pytest.approx((0.85 - expected) / (1 - expected))


# --------------------------------------------------------------------------- edge cases

def test_perfect_agreement_gives_100_percent_and_coefficients_of_1():
    ratings = wide_to_ratings({"A": ["x", "y", "x", "y"], "B": ["x", "y", "x", "y"]})
    table = agreement_table(ratings, resamples=200).set_index("statistic")
    assert table.at["percent_agreement", "value"] == 100
    assert table.loc[["cohen_kappa", "fleiss_kappa", "krippendorff_alpha"], "value"].tolist() \
        == pytest.approx([1, 1, 1])


def test_coders_giving_one_same_value_throughout_leave_kappa_and_alpha_undefined():
    ratings = wide_to_ratings({"A": ["x", "x", "x"], "B": ["x", "x", "x"]})
    summary = ratings_summary(ratings, resamples=50)
    assert summary["percent_agreement"] == 100
    assert summary["cohen_kappa"] is None and summary["cohen_kappa_ci"] is None
    assert summary["fleiss_kappa"] is None
    assert summary["krippendorff_alpha"] is None and summary["krippendorff_alpha_ci"] is None
    assert "0/0" in summary["notes"]["cohen_kappa"]
    assert "0/0" in summary["notes"]["krippendorff_alpha"]


def test_a_constant_coder_against_a_varying_one_gives_kappa_0():
    ratings = wide_to_ratings({"A": ["x", "x", "x", "x"], "B": ["x", "y", "x", "y"]})
    kappa = cohen_kappa(ratings)
    assert kappa.value == pytest.approx(0.0) and "0 by construction" in kappa.note
    assert kappa.ci_low is None  # the asymptotic standard error is 0: no interval


def test_a_single_unit_gives_percent_agreement_and_no_bootstrap_interval():
    agree = wide_to_ratings({"A": ["x"], "B": ["x"]})
    assert percent_agreement(agree).value == 100
    assert cohen_kappa(agree).value is None
    disagree = wide_to_ratings({"A": ["x"], "B": ["y"]})
    assert cohen_kappa(disagree).value == pytest.approx(0.0)
    alpha = krippendorff_alpha(disagree)
    assert alpha.value == pytest.approx(0.0) and alpha.ci_low is None
    assert "one unit" in alpha.note


def test_coders_missing_on_some_units():
    ratings = wide_to_ratings({"A": ["x", "y", "x", None, "y"],
                               "B": ["x", "y", None, "y", "x"]})
    kappa = cohen_kappa(ratings)
    assert kappa.n_units == 3  # units rated by both
    assert percent_agreement(ratings).value == pytest.approx(100 * 2 / 3)
    fleiss = fleiss_kappa(ratings)
    assert fleiss.value is None and "different numbers of ratings" in fleiss.note
    assert krippendorff_alpha(ratings, resamples=100).n_units == 3


def test_cohen_kappa_needs_exactly_two_coders():
    stat = cohen_kappa(wide_to_ratings({"A": ["x"], "B": ["x"], "C": ["y"]}))
    assert stat.value is None and "exactly two coders (found 3)" in stat.note


def test_fleiss_kappa_allows_different_coders_per_unit_with_equal_counts():
    ratings = ratings_of([(1, "A", "x"), (1, "B", "x"), (2, "B", "y"), (2, "C", "y"),
                          (3, "A", "x"), (3, "C", "y")])
    assert fleiss_kappa(ratings).value is not None


def test_bootstrap_interval_is_reproducible_with_its_seed():
    ratings = wide_to_ratings(KRIPPENDORFF_2011)
    first = krippendorff_alpha(ratings, resamples=300, seed=7)
    again = krippendorff_alpha(ratings, resamples=300, seed=7)
    other = krippendorff_alpha(ratings, resamples=300, seed=8)
    assert (first.ci_low, first.ci_high) == (again.ci_low, again.ci_high)
    assert (first.ci_low, first.ci_high) != (other.ci_low, other.ci_high)


def test_binary_kappa_matches_statsmodels_and_precision_recall_are_of_b_against_a():
    stats = binary_agreement([50], [25], [30], [20]).iloc[0]
    reference = cohens_kappa(np.array([[20, 5], [10, 15]])).kappa
    assert stats.cohen_kappa == pytest.approx(reference)
    assert stats.precision == pytest.approx(20 / 30) and stats.recall == pytest.approx(20 / 25)
    assert stats.f1 == pytest.approx(2 * (2 / 3) * 0.8 / (2 / 3 + 0.8))


def test_binary_kappa_is_undefined_when_neither_coder_codes_anything():
    stats = binary_agreement([10], [0], [0], [0]).iloc[0]
    assert stats.percent_agreement == 100 and math.isnan(stats.cohen_kappa)
    assert math.isnan(stats.precision) and "neither coder" in stats.note


# --------------------------------------------------------------------------- bad input

def write(tmp_path, text, name="ratings.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_column_is_an_input_error_on_the_header_line(tmp_path):
    path = write(tmp_path, "unit,coder\nu1,A\n")
    with pytest.raises(InputError, match="missing column 'value'") as err:
        read_ratings(path)
    assert err.value.line == 1 and err.value.file == str(path)


def test_empty_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="empty"):
        read_ratings(write(tmp_path, ""))
    with pytest.raises(InputError, match="no ratings"):
        read_ratings(write(tmp_path, "unit,coder,value\n"))


def test_a_unit_rated_twice_by_one_coder_names_both_lines(tmp_path):
    path = write(tmp_path, "unit,coder,value\nu1,A,x\nu1,B,x\nu1,A,y\n")
    with pytest.raises(InputError, match=r"rated unit 'u1' twice \(first on line 2\)") as err:
        read_ratings(path)
    assert (err.value.line, err.value.column) == (4, "coder")


def test_an_empty_value_means_the_coder_skipped_the_unit(tmp_path):
    ratings = read_ratings(write(tmp_path, "unit,coder,value\nu1,A,x\nu1,B,\nu2,A,y\nu2,B,y\n"))
    assert len(ratings) == 3


def test_a_missing_value_in_a_ratings_frame_is_a_skipped_rating():
    ratings = pd.DataFrame({"unit": [1, 1, 2, 2], "coder": ["A", "B", "A", "B"],
                            "value": ["x", None, "y", "y"]})
    assert cohen_kappa(ratings).n_units == 1


# --------------------------------------------------------------------------- characters

def segment_frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["source", "user", "user_guid", "code", "start", "end"])
    frame["code_path"] = frame["code"]
    return frame


def test_character_agreement_counts_overlapping_segments_of_one_coder_once():
    segments = segment_frame([
        ("doc", "ann", "g1", "trust", 0, 10), ("doc", "ann", "g1", "trust", 5, 15),
        ("doc", "bob", "g2", "trust", 10, 20), ("doc", "bob", "g2", "delay", 30, 40),
    ])
    table = character_agreement(segments, {"doc": 100, "memo": 50}, "ann", "bob")
    assert table[["source", "code"]].values.tolist() == [
        ["doc", "delay"], ["doc", "trust"], ["memo", "delay"], ["memo", "trust"]]
    trust = table.iloc[1]
    assert (trust.chars_a, trust.chars_b, trust.chars_both) == (15, 10, 5)
    assert trust.percent_agreement == pytest.approx(85.0)
    delay = table.iloc[0]
    assert (bool(delay.used_a), bool(delay.used_b), bool(delay.presence_agree)) == (
        False, True, False)
    assert delay.cohen_kappa == pytest.approx(0.0)


def test_complete_agreement_gives_kappa_1_as_in_nvivo():
    segments = segment_frame([("doc", "ann", "g1", "trust", 0, 10),
                              ("doc", "bob", "g2", "trust", 0, 10)])
    table = character_agreement(segments, {"doc": 20, "other": 5}, "ann", "bob")
    untouched = table[table["source"] == "other"].iloc[0]
    assert untouched.percent_agreement == 100 and untouched.cohen_kappa == 1
    assert "NVivo" in untouched.note
    assert table[table["source"] == "doc"].iloc[0].cohen_kappa == pytest.approx(1.0)


def test_coders_are_matched_by_name_or_guid():
    segments = segment_frame([("doc", "ann", "AA-1", "trust", 0, 10),
                              ("doc", "bob", "BB-2", "trust", 5, 10)])
    by_guid = character_agreement(segments, {"doc": 20}, "{aa-1}", "BB-2")
    assert by_guid.iloc[0].chars_both == 5
    with pytest.raises(ValueError,
                       match=r"no codings by user 'cy' \(users with codings: 'ann', 'bob'\)"):
        character_agreement(segments, {"doc": 20}, "ann", "cy")
    with pytest.raises(ValueError, match="same user"):
        character_agreement(segments, {"doc": 20}, "ann", "AA-1")


def test_a_user_name_two_users_share_is_refused_and_the_guid_chooses():
    segments = segment_frame([("doc", "ann", "a1", "trust", 0, 10),
                              ("doc", "ann", "a2", "trust", 5, 10),
                              ("doc", "bob", "b1", "trust", 0, 5)])
    with pytest.raises(ValueError, match=r"user name 'ann' belongs to 2 users \(a1, a2\); "
                                         "give the user GUID instead"):
        character_agreement(segments, {"doc": 20}, "ann", "bob")
    assert character_agreement(segments, {"doc": 20}, "A2", "bob").iloc[0].chars_both == 0


def test_a_segment_past_the_end_of_its_source_is_an_error():
    segments = segment_frame([("doc", "ann", "g1", "trust", 0, 30),
                              ("doc", "bob", "g2", "trust", 0, 10)])
    with pytest.raises(ValueError, match="outside source 'doc'"):
        character_agreement(segments, {"doc": 20}, "ann", "bob")


def test_presence_and_pooled_character_summaries_have_a_row_per_code_and_all():
    segments = segment_frame([("d1", "ann", "g1", "trust", 0, 10),
                              ("d2", "ann", "g1", "trust", 0, 10),
                              ("d1", "bob", "g2", "trust", 0, 10)])
    table = character_agreement(segments, {"d1": 10, "d2": 40}, "ann", "bob")
    presence = presence_agreement(table).set_index("code")
    assert presence.loc["trust", ["n_units", "coded_a", "coded_b", "coded_both"]].tolist() \
        == [2, 2, 1, 1]
    assert presence.loc["trust", "percent_agreement"] == 50
    pooled = character_summary(table).set_index("code")
    assert pooled.loc[ALL, ["n_chars", "chars_a", "chars_b", "chars_both"]].tolist() == [
        50, 20, 10, 10]
    assert pooled.loc["trust", "percent_agreement"] == pytest.approx(80.0)


# --------------------------------------------------------------------------- sentences

TEXT = ("Pimpinan terbuka kepada staf. Pegawai bekerja secara \n\nindividual. "
        "Tugas sering terlambat. Sarana kantor terbatas.")


def seg(code, quote, text=TEXT, source_id="alpha"):
    start = text.index(quote)
    return {"source_id": source_id, "start": start, "end": start + len(quote), "code": code}


def test_a_segment_codes_every_sentence_it_overlaps():
    sents = sentences(TEXT)
    segments = pd.DataFrame([seg("individualism", "staf. Pegawai"),
                             seg("timeliness", "terlambat")])
    coded = coded_sentences(segments, sents)
    assert coded.values.tolist() == [[1, "individualism"], [2, "individualism"],
                                     [3, "timeliness"]]


def test_a_segment_of_white_space_between_sentences_codes_nothing():
    start = TEXT.index(" Tugas")
    segments = pd.DataFrame([{"source_id": "alpha", "start": start, "end": start + 1,
                              "code": "timeliness"}])
    assert coded_sentences(segments, sentences(TEXT)).empty


def test_sentence_agreement_per_code_with_precision_and_recall_of_b_against_a():
    a = pd.DataFrame([seg("openness", "Pimpinan terbuka"), seg("individualism", "individual"),
                      seg("timeliness", "Tugas sering")])
    b = pd.DataFrame([seg("openness", "kepada staf"), seg("timeliness", "Sarana kantor")])
    table = sentence_agreement(a, b, sentences(TEXT)).set_index("code")
    assert table.index.tolist() == ["individualism", "openness", "timeliness", ALL]
    assert table.loc["openness", ["n_units", "coded_a", "coded_b", "coded_both"]].tolist() == [
        4, 1, 1, 1]
    assert table.loc["openness", "cohen_kappa"] == pytest.approx(1.0)
    assert table.loc["timeliness", "percent_agreement"] == pytest.approx(50.0)
    assert math.isnan(table.loc["individualism", "precision"])  # B never used it
    assert table.loc["individualism", "recall"] == 0
    assert table.loc[ALL, ["n_units", "coded_a", "coded_b", "coded_both"]].tolist() == [
        12, 3, 2, 1]
    assert table.loc[ALL, "precision"] == pytest.approx(0.5)
    assert table.loc[ALL, "recall"] == pytest.approx(1 / 3)


def test_sentence_agreement_by_category_maps_codes_through_the_codebook():
    codebook = pd.DataFrame({"code": ["openness", "individualism", "timeliness", "a_open"],
                             "category": ["dimension", "barrier", "outcome", "dimension"]})
    a = pd.DataFrame([seg("openness", "Pimpinan terbuka")])
    b = pd.DataFrame([seg("a_open", "kepada staf")])
    table = sentence_agreement(a, b, sentences(TEXT), by="category", codebook=codebook)
    assert table["category"].tolist() == ["dimension", ALL]
    assert table.iloc[0].cohen_kappa == pytest.approx(1.0)
    with pytest.raises(ValueError, match="not in the codebook: unknown"):
        sentence_agreement(a, pd.DataFrame([seg("unknown", "Tugas")]), sentences(TEXT),
                           by="category", codebook=codebook)
    with pytest.raises(ValueError, match="needs a codebook"):
        sentence_agreement(a, b, sentences(TEXT), by="category")


def test_sentence_agreement_over_several_sources():
    texts = {"alpha": TEXT, "beta": "Kinerja naik. Motivasi tinggi."}
    sents = corpus_sentences(texts)
    a = pd.DataFrame([seg("timeliness", "Tugas"), seg("performance", "Kinerja naik",
                                                       texts["beta"], "beta")])
    b = pd.DataFrame([seg("performance", "Kinerja", texts["beta"], "beta")])
    table = sentence_agreement(a, b, sents).set_index("code")
    assert table.loc["performance", ["n_units", "coded_both"]].tolist() == [6, 1]
    with pytest.raises(ValueError, match="without sentences: gamma"):
        sentence_agreement(a, pd.DataFrame([seg("x", "Kinerja", texts["beta"], "gamma")]),
                           sents)


def test_sentence_agreement_with_no_coding_has_only_an_empty_pooled_row():
    empty = pd.DataFrame(columns=["source_id", "start", "end", "code"])
    table = sentence_agreement(empty, empty, sentences(TEXT))
    assert table["code"].tolist() == [ALL] and table.iloc[0].n_units == 0


# --------------------------------------------------------------------------- the command

def test_command_prints_ratings_json_with_the_documented_keys(tmp_path, capsys):
    rows = "\n".join(f"{u},{c},{v}" for u, c, v in cohen_ratings().itertuples(index=False))
    path = write(tmp_path, "unit,coder,value\n" + rows + "\n")
    assert main(["agreement", "--ratings", str(path), "--json", "--resamples", "100"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"percent_agreement", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha",
            "krippendorff_alpha_ci", "n_units", "n_coders"} <= set(result)
    assert round(result["cohen_kappa"], 3) == 0.4 and result["n_units"] == 50
    assert len(result["cohen_kappa_ci"]) == 2


def test_command_prints_a_table_and_reports_bad_input_in_one_line(tmp_path, capsys):
    good = write(tmp_path, "unit,coder,value\nu1,A,x\nu1,B,x\nu2,A,y\nu2,B,x\n")
    assert main(["agreement", "--ratings", str(good), "--resamples", "50"]) == 0
    out = capsys.readouterr().out
    assert "krippendorff_alpha" in out and "2 units, 2 coders" in out
    bad = write(tmp_path, "unit,coder,value\nu1,A,x\nu1,A,y\n", "bad.csv")
    assert main(["agreement", "--ratings", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}:3: column 'coder'") and err.count("\n") == 1


def test_command_compares_two_coding_sheets_by_sentence(tiny, tmp_path, capsys):
    from conftest import SHEETS, TEXTS, coding_rows
    second = [("Pimpinan terbuka kepada staf", "alpha_open_door", "positive", "results"),
              ("Kepala bagian memberi arahan", "clear_instructions", "positive", "results")]
    b_path = write(tmp_path, csv_text(CODING_HEADER, coding_rows("alpha", TEXTS["alpha"],
                                                                 second)), "b.csv")
    out = tmp_path / "sentences.csv"
    code = main(["agreement", "--sheets", str(tiny.coding_csv("alpha")), str(b_path),
                 "--data", str(tiny.data), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    table = pd.read_csv(out).set_index("code")
    assert table.loc["alpha_open_door", "cohen_kappa"] == pytest.approx(1.0)
    assert table.loc["timeliness", "recall"] == 0
    assert table.loc[ALL, "coded_a"] == len(SHEETS["alpha"])
    by_category = main(["agreement", "--sheets", str(tiny.coding_csv("alpha")), str(b_path),
                        "--data", str(tiny.data), "--out", str(tmp_path), "--by", "category"])
    assert by_category == 0
    # one file per pair of sheets: a second pair never overwrites the first
    assert [p.name for p in (tmp_path / "agreement").iterdir()] == [
        "alpha_vs_b_sentences_by_category.csv"]


def test_command_checks_sheet_quotes_against_the_text(tiny, tmp_path, capsys):
    text = tmp_path / "other.txt"
    text.write_text("A different text altogether, longer than any offset in the sheet. " * 3,
                    encoding="utf-8")
    sheet = str(tiny.coding_csv("alpha"))
    assert main(["agreement", "--sheets", sheet, sheet, "--text", str(text),
                 "--out", str(tmp_path / "x.csv")]) == 1
    assert "quote" in capsys.readouterr().err


QDPX = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="agreement test" origin="test">
<Users><User guid="{ua}" name="ann"/><User guid="{ub}" name="bob"/></Users>
<CodeBook><Codes><Code guid="{code}" name="trust" isCodable="true"/></Codes></CodeBook>
<Sources><TextSource guid="{src}" name="doc" plainTextPath="internal://{src}.txt">
<PlainTextSelection guid="{s1}" startPosition="0" endPosition="150" creatingUser="{ua}">
<Coding guid="{c1}" creatingUser="{ua}"><CodeRef targetGUID="{code}"/></Coding>
</PlainTextSelection>
<PlainTextSelection guid="{s2}" startPosition="100" endPosition="200" creatingUser="{ub}">
<Coding guid="{c2}" creatingUser="{ub}"><CodeRef targetGUID="{code}"/></Coding>
</PlainTextSelection>
</TextSource></Sources></Project>
"""


@pytest.mark.skipif(importlib.util.find_spec("analysis.exchange") is None,
                    reason="analysis.exchange (read_qdpx) is not in this checkout yet")
def test_command_compares_two_users_of_a_qdpx_project_by_character(tmp_path, capsys):
    guids = {k: f"00000000-0000-4000-8000-{i:012d}" for i, k in
             enumerate(["ua", "ub", "code", "src", "s1", "s2", "c1", "c2"], 1)}
    path = tmp_path / "project.qdpx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", QDPX.format(**guids))
        archive.writestr(f"sources/{guids['src']}.txt", "x" * 1000)
    out = tmp_path / "chars.csv"
    code = main(["agreement", "--qdpx", str(path), "--coders", "ann", "bob", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    row = pd.read_csv(out).iloc[0]
    assert (row.n_chars, row.chars_a, row.chars_b, row.chars_both) == (1000, 150, 100, 50)
    assert row.percent_agreement == pytest.approx(85.0)
    assert (tmp_path / "chars_presence.csv").exists()


def test_f1_is_zero_when_the_coders_share_no_coded_unit():
    stats = binary_agreement([100], [2], [2], [0]).iloc[0]
    assert stats.precision == 0 and stats.recall == 0 and stats.f1 == 0


# --------------------------------------------------------------------------- real data

REAL_SHEETS = sorted((ROOT / "data" / "coding").glob("*.csv"))


@pytest.mark.kit_data
@pytest.mark.skipif(not REAL_SHEETS, reason="data/coding/*.csv not present yet (the hand coding)")
def test_real_coding_sheets_fall_in_sentences_and_agree_with_themselves():
    from analysis.sources import load_corpus
    corpus = load_corpus()
    sents = corpus_sentences({sid: corpus.texts[sid] for sid in corpus.coding["source_id"]})
    coding = corpus.coding
    per_segment = coded_sentences(coding.assign(code=coding["segment_id"]), sents)
    spans = per_segment.groupby("code").size().reindex(coding["segment_id"], fill_value=0)
    assert (spans >= 1).all(), "a coded segment lies in no sentence"
    # quotes are "normally one clause or sentence" (docs/coding/conventions.md)
    assert (spans == 1).mean() >= 0.9
    table = sentence_agreement(coding, coding, sents, by="category", codebook=corpus.codebook)
    assert (table["cohen_kappa"] == 1).all() and (table["precision"] == 1).all()
