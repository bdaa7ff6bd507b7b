"""The suggestions' evaluation is cached under OUT/cache/ by a key of its code and inputs:
served only for the same inputs, recomputed after any change, written byte-identical to a
fresh computation (analysis.cache, analysis.tables.autocode_evaluation)."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from analysis import cache
from analysis.autocode import leave_one_site_out
from analysis.io import csv_text
from analysis.sources import load_corpus
from analysis.tables import autocode_evaluation, build_tables, evaluation_key
from conftest import csv_text as csv_of

LEXICON = [["openness", "id", "terbuka", "", ""]]


def with_lexicon(layout, rows=LEXICON):
    layout.lexicon_csv.write_text(csv_of(["code", "language", "term", "weight", "note"], rows),
                                  encoding="utf-8")
    return layout


def entry_path(layout):
    return layout.cache_dir / "autocode_eval.json"


# ------------------------------------------------------------------ changes of one input

def recode_a_practice_as_a_dimension(layout):
    sheet = layout.coding_csv("alpha")
    sheet.write_text(sheet.read_text(encoding="utf-8").replace(
        ",clear_instructions,", ",openness,"), encoding="utf-8")


def add_a_lexicon_term(layout):
    with_lexicon(layout, LEXICON + [["infrastructure", "id", "sarana", "", ""]])


def add_a_sentence_to_a_text(layout):
    raw = layout.data / "raw" / "beta.txt"
    old = raw.read_bytes()
    raw.write_bytes(old + "Pimpinan terbuka kepada warga.\n".encode("utf-8"))
    sources = layout.sources_csv
    sources.write_text(sources.read_text(encoding="utf-8").replace(
        hashlib.sha256(old).hexdigest(), hashlib.sha256(raw.read_bytes()).hexdigest()),
        encoding="utf-8")


def move_a_code_to_another_category(layout):
    book = layout.codebook_csv
    book.write_text(book.read_text(encoding="utf-8").replace(
        "timeliness,,outcome,", "timeliness,,barrier,"), encoding="utf-8")


CHANGES = [recode_a_practice_as_a_dimension, add_a_lexicon_term, add_a_sentence_to_a_text,
           move_a_code_to_another_category]


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__ for c in CHANGES])
def test_a_changed_input_is_recomputed_never_served_stale(tiny, change):
    with_lexicon(tiny)
    before = autocode_evaluation(load_corpus(tiny))
    assert entry_path(tiny).exists()
    change(tiny)
    corpus = load_corpus(tiny)
    fresh = leave_one_site_out(corpus)
    assert csv_text(fresh) != csv_text(before), "the change must matter, or staleness is invisible"
    assert csv_text(autocode_evaluation(corpus)) == csv_text(fresh)
    assert csv_text(autocode_evaluation(corpus)) == csv_text(fresh)  # now from the cache


def test_a_changed_section_map_changes_the_key(tiny):
    with_lexicon(tiny)
    corpus = load_corpus(tiny)
    before = evaluation_key(corpus)
    (tiny.data / "sections").mkdir()
    text = corpus.texts["alpha"]
    (tiny.data / "sections" / "alpha.csv").write_text(
        f"source_id,section,start,end,heading\nalpha,results,0,{len(text)},\n", encoding="utf-8")
    changed = load_corpus(tiny)
    assert evaluation_key(changed) != before
    assert csv_text(autocode_evaluation(changed)) == csv_text(leave_one_site_out(changed))


def test_inputs_the_evaluation_does_not_read_leave_the_key_alone(tiny):
    with_lexicon(tiny)
    before = evaluation_key(load_corpus(tiny))
    (tiny.data / "cerqual.csv").write_text("not read by the evaluation\n", encoding="utf-8")
    assert evaluation_key(load_corpus(tiny)) == before


def test_an_unchanged_corpus_is_served_from_the_cache(tiny):
    with_lexicon(tiny)
    corpus = load_corpus(tiny)
    autocode_evaluation(corpus)
    entry = json.loads(entry_path(tiny).read_text(encoding="utf-8"))
    marked = entry["csv"].replace("no suggestion", "MARK", 1)
    assert marked != entry["csv"]
    entry_path(tiny).write_text(json.dumps({**entry, "csv": marked}), encoding="utf-8")
    assert "MARK" in set(autocode_evaluation(corpus)["note"])  # the stored table, not recomputed


def test_a_corrupt_or_foreign_entry_is_recomputed_not_an_error(tiny):
    with_lexicon(tiny)
    corpus = load_corpus(tiny)
    fresh = csv_text(leave_one_site_out(corpus))
    for content in ("{not json", json.dumps({"format": cache.FORMAT, "key": "other"}), ""):
        entry_path(tiny).parent.mkdir(parents=True, exist_ok=True)
        entry_path(tiny).write_text(content, encoding="utf-8")
        assert csv_text(autocode_evaluation(corpus)) == fresh


def test_tables_from_the_cache_are_byte_identical_to_a_fresh_build(tiny, tmp_path):
    with_lexicon(tiny)
    build_tables(tiny)
    first = {p.name: p.read_bytes() for p in tiny.tables_dir.iterdir()}
    assert entry_path(tiny).exists()
    build_tables(tiny)  # evaluation from the cache
    second = {p.name: p.read_bytes() for p in tiny.tables_dir.iterdir()}
    assert second == first
    fresh = csv_text(leave_one_site_out(load_corpus(tiny))).encode("utf-8")
    assert second["autocode_eval.csv"] == fresh


def test_the_code_version_covers_autocode_and_the_kit_modules_it_imports():
    names = {p.name for p in cache.code_files("analysis.autocode")}
    assert {"autocode.py", "agreement.py", "text.py", "sources.py", "schema.py"} <= names
    assert "report.py" not in names


def test_the_code_version_changes_when_one_source_byte_changes(tmp_path, monkeypatch):
    copies = []
    for path in cache.code_files("analysis.autocode"):
        copies.append(tmp_path / path.name)
        shutil.copy(path, copies[-1])
    monkeypatch.setattr(cache, "code_files", lambda module: tuple(copies))
    before = cache.code_version("analysis.autocode")
    autocode_copy = tmp_path / "autocode.py"
    autocode_copy.write_text(autocode_copy.read_text(encoding="utf-8") + "\n",
                             encoding="utf-8")
    assert cache.code_version("analysis.autocode") != before
