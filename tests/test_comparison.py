"""The comparison stage: matrix states, co-occurrence, similarity and prevalence."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import comparison
from analysis.coding import evidence

CODEBOOK = pd.DataFrame({
    "code": ["openness", "empathy", "individualism", "timeliness", "x_open_door"],
    "parent": ["", "", "", "", "openness"],
    "category": ["dimension", "dimension", "barrier", "outcome", "dimension"],
    "label_en": ["Openness", "Empathy", "Individualism", "Timeliness", "Open door"],
    "label_id": ["keterbukaan", "empati", "individualisme", "ketepatan waktu", "pintu terbuka"],
})


def seg(site, sid, code, valence, start, end, attribution="primary", canonical=None,
        category=None):
    cat = {"openness": "dimension", "empathy": "dimension", "individualism": "barrier",
           "timeliness": "outcome", "x_open_door": "dimension"}[code]
    return {"site": site, "segment_id": sid, "source_id": site, "start": start, "end": end,
            "quote": "q", "code": code, "canonical_code": canonical or code.replace("x_open_door", "openness"),
            "category": category or cat, "valence": valence, "evidence": "interview",
            "informant": "", "attribution": attribution, "section": "results", "memo": ""}


@pytest.fixture
def segments():
    return pd.DataFrame([
        seg("a", "a-1", "openness", "positive", 0, 10),
        seg("a", "a-2", "x_open_door", "negative", 5, 15),
        seg("a", "a-3", "individualism", "negative", 8, 20),
        seg("a", "a-4", "timeliness", "negative", 30, 40),
        seg("a", "a-5", "empathy", "positive", 50, 60, attribution="cited_secondary"),
        seg("b", "b-1", "openness", "positive", 0, 10),
        seg("b", "b-2", "timeliness", "positive", 20, 30),
    ])


def cell(matrix, site, code):
    return matrix.set_index(["site", "code"]).loc[(site, code)]


def test_matrix_has_every_site_and_canonical_code(segments):
    matrix = comparison.site_code_matrix(segments, CODEBOOK, ["a", "b", "c"])
    assert len(matrix) == 3 * 4
    assert cell(matrix, "c", "openness").state == "not_reported"


def test_state_is_mixed_when_a_site_code_child_disagrees_with_its_parent(segments):
    matrix = comparison.site_code_matrix(segments, CODEBOOK, ["a", "b"])
    row = cell(matrix, "a", "openness")
    assert (row.state, row.n_segments, row.n_positive, row.n_negative) == ("mixed", 2, 1, 1)
    assert row.segment_ids == "a-1;a-2"
    assert cell(matrix, "b", "openness").state == "practiced"


def test_states_are_named_by_category(segments):
    matrix = comparison.site_code_matrix(segments, CODEBOOK, ["a", "b"])
    assert cell(matrix, "a", "individualism").state == "reported"
    assert cell(matrix, "a", "timeliness").state == "problem"
    assert cell(matrix, "b", "timeliness").state == "improved"


def test_cited_secondary_segments_are_counted_apart_and_never_make_a_state(segments):
    matrix = comparison.site_code_matrix(segments, CODEBOOK, ["a", "b"])
    row = cell(matrix, "a", "empathy")
    assert (row.state, row.n_segments, row.n_cited_secondary) == ("not_reported", 0, 1)


def test_evidence_lists_the_quotes_behind_a_cell_including_site_codes(segments):
    quotes = evidence(segments, "a", "openness")
    assert list(quotes["segment_id"]) == ["a-1", "a-2"]


def test_cooccurrence_counts_overlapping_segments_of_different_codes(segments):
    pairs = comparison.code_cooccurrence(segments)
    got = {(r.site, r.code_a, r.code_b): r.n_overlaps for r in pairs.itertuples()}
    # a-1 [0,10) overlaps a-2 (same canonical code: not a pair) and a-3 [8,20);
    # a-2 [5,15) overlaps a-3; a-4 overlaps nothing; b-1 and b-2 do not touch.
    assert got == {("a", "individualism", "openness"): 2}


def test_touching_segments_do_not_cooccur():
    frame = pd.DataFrame([seg("a", "a-1", "openness", "positive", 0, 10),
                          seg("a", "a-2", "timeliness", "positive", 10, 20)])
    assert comparison.code_cooccurrence(frame).empty


def test_jaccard_similarity_over_reported_codes(segments):
    matrix = comparison.site_code_matrix(segments, CODEBOOK, ["a", "b"])
    sim = comparison.site_similarity(matrix).set_index(["site_a", "site_b"])
    # a reports openness, individualism, timeliness; b openness, timeliness
    assert sim.loc[("a", "b")].jaccard == pytest.approx(2 / 3, abs=1e-6)
    assert sim.loc[("a", "a")].jaccard == 1
    assert sim.loc[("a", "b")].jaccard == sim.loc[("b", "a")].jaccard


def test_prevalence_uses_wilson_intervals(segments):
    matrix = comparison.site_code_matrix(segments, CODEBOOK, ["a", "b"])
    prev = comparison.code_prevalence(segments, matrix).set_index("code")
    # openness: 3 of 6 primary segments; Wilson 95% for 3/6 is 0.1876 to 0.8124
    row = prev.loc["openness"]
    assert (row.n_segments, row.n_segments_total) == (3, 6)
    assert row.seg_ci_low == pytest.approx(0.1876, abs=1e-4)
    assert row.seg_ci_high == pytest.approx(0.8124, abs=1e-4)
    assert (row.n_sites, row.n_sites_total) == (2, 2)


def test_similarity_is_left_empty_above_the_site_limit(monkeypatch, segments):
    monkeypatch.setattr(comparison, "SIMILARITY_MAX_SITES", 1)
    matrix = comparison.site_code_matrix(segments, CODEBOOK, ["a", "b"])
    assert comparison.site_similarity(matrix).empty


def test_the_similarity_figure_leaves_out_a_site_reporting_no_code_and_names_it(segments):
    from analysis import figures

    matrix = comparison.site_code_matrix(segments, CODEBOOK, ["a", "b", "c"])  # c: no segment
    names = {"a": "Alpha", "b": "Beta", "c": "Gamma"}
    fig = figures.similarity_figure(comparison.site_similarity(matrix), names=names)
    heatmap = next(ax for ax in fig.axes if ax.get_yticklabels())
    assert sorted(t.get_text() for t in heatmap.get_yticklabels()) == ["Alpha", "Beta"]
    assert [t.get_text() for t in fig.texts if "Left out" in t.get_text()] == [
        "Left out, reporting no code: Gamma."]
    figures.plt.close(fig)


@pytest.mark.parametrize("sites", [["a", "c"], ["a"]])
def test_the_similarity_figure_says_in_words_when_fewer_than_two_sites_report_codes(
        segments, sites):
    from analysis import figures

    matrix = comparison.site_code_matrix(segments, CODEBOOK, sites)
    fig = figures.similarity_figure(comparison.site_similarity(matrix))
    words = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "fewer than two sites report codes, nothing to compare" in words
    assert ("Left out, reporting no code: c." in words) == ("c" in sites)
    figures.plt.close(fig)


def test_the_site_profile_draws_negative_segments_left_and_whole_numbers_only(segments):
    from analysis import figures

    matrix = comparison.site_code_matrix(segments, CODEBOOK, ["a", "b"])
    fig = figures.site_profile_figure(matrix, "a", name="Alpha")
    ax = fig.axes[0]
    part = matrix[(matrix["site"] == "a") & (matrix["state"] != comparison.NOT_REPORTED)]
    widths = [bar.get_width() for bar in ax.patches]
    assert widths == [*part["n_positive"], *(-part["n_negative"])]
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks and all(t.isdigit() for t in ticks), ticks
    figures.plt.close(fig)


def test_the_prevalence_figure_lists_categories_in_the_framework_order(segments):
    from analysis import figures

    matrix = comparison.site_code_matrix(segments, CODEBOOK, ["a", "b"])
    fig = figures.prevalence_figure(comparison.code_prevalence(segments, matrix))
    rows = [t.get_text().split(":")[0].lower() for t in fig.axes[0].get_yticklabels()]
    order = ["dimension", "practice", "barrier", "outcome"]
    assert [order.index(r) for r in rows] == sorted(order.index(r) for r in rows), rows
    figures.plt.close(fig)


def test_the_site_profile_of_a_site_reporting_nothing_says_so_in_words(segments):
    from analysis import figures

    matrix = comparison.site_code_matrix(segments, CODEBOOK, ["a", "c"])  # c: no segment
    fig = figures.site_profile_figure(matrix, "c", name="Gamma")
    words = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "What the Gamma study reports" in words and "no code yet" in words
    figures.plt.close(fig)
