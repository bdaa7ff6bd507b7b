"""The real coding data: invariants, coverage explained, canonical codes all accounted for."""

from __future__ import annotations

import pytest

from analysis.coverage import paragraph_table
from analysis.paths import Layout
from analysis.sources import load_corpus
from analysis.validation import validate
from conftest import PUBLISHED_FOUR, published_four

pytestmark = pytest.mark.kit_data  # every test here reads the kit's own data


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(Layout())


def test_the_bundled_corpus_validates_file_by_file():
    failures = [(f, v) for f, v in validate(Layout()) if not v.startswith("ok")]
    assert failures == []


def test_every_site_has_a_coding_sheet_a_memo_a_section_map_and_an_appraisal(corpus):
    layout = corpus.layout
    for site in corpus.site_ids:
        assert layout.coding_csv(site).exists(), site
        assert (layout.memo_dir / f"{site}.md").exists(), site
        assert layout.sections_csv(site).exists(), site
        assert (layout.appraisal_dir / f"{site}.csv").exists(), site


def test_every_canonical_code_is_used_by_a_site_or_the_codebook_says_why(corpus):
    book = corpus.codebook
    canonical = book[book["parent"] == ""]
    used = set(corpus.coding["code"].map(book.set_index("code")["canonical_code"]))
    unexplained = [c for c, note in zip(canonical["code"], canonical["note"])
                   if c not in used and not note.strip()]
    assert unexplained == []


def test_every_uncoded_results_paragraph_is_explained_in_its_memo(corpus):
    paragraphs = paragraph_table(corpus)
    missing = []
    for site, part in paragraphs[~paragraphs["coded"]].groupby("site"):
        memo = " ".join((corpus.layout.memo_dir / f"{site}.md").read_text().split())
        for row in part.itertuples():
            opening = " ".join(row.first_words.split()[:3])
            if opening not in memo:
                missing.append((site, row.start, row.first_words))
    assert missing == []


def test_cited_secondary_text_never_counts_as_site_evidence(corpus):
    from analysis.coding import segments
    from analysis.comparison import site_code_matrix
    segs = segments(corpus)
    matrix = site_code_matrix(segs, corpus.codebook, corpus.site_ids)
    secondary = segs[segs["attribution"] == "cited_secondary"]
    for row in secondary.itertuples():
        cell = matrix[(matrix["site"] == row.site) & (matrix["code"] == row.canonical_code)]
        assert row.segment_id not in cell["segment_ids"].iloc[0].split(";")


def test_published_four_studies_raw_texts_are_the_published_extractions(corpus, shared):
    seeds = shared / "seeds"
    import hashlib
    seed_sums = {hashlib.sha256(p.read_bytes()).hexdigest() for p in seeds.glob("*.txt")}
    assert set(published_four(corpus).sources["sha256"]) == seed_sums


@pytest.mark.parametrize("site", PUBLISHED_FOUR)
def test_published_four_studies_have_nothing_left_on_their_to_do_list(site):
    from analysis.sitestatus import site_status
    todo = site_status(Layout(), site)
    assert todo.empty, todo.to_string()


def test_every_file_the_docs_and_memos_name_is_in_the_kit():
    """A path in backquotes in the README, data/README.md (relative to data/) or docs/
    (coding memos included) names a file of the kit, unless it is an output the kit
    generates (under reports/ or a command's OUT/ or DIR/ folder) or a path inside a
    REFI-QDA archive (sources/)."""
    import re

    from analysis.paths import ROOT

    named = re.compile(r"`([\w./-]+/[\w.-]+\.(?:csv|txt|md|json|ipynb|py|typ|cfg|yml|qdpx|qdc"
                       r"|lock|toml))`")
    generated = ("reports/", "OUT/", "DIR/", "sources/")
    docs = [ROOT / "README.md", ROOT / "data" / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    missing = [(str(doc.relative_to(ROOT)), path)
               for doc in docs for path in named.findall(doc.read_text(encoding="utf-8"))
               if not path.startswith(generated)
               and not (doc.parent / path if doc.parent.name == "data" else ROOT / path).exists()]
    assert missing == []
