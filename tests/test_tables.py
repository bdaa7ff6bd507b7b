"""Writing the tables: complete, documented, byte-stable, atomic on bad input."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.coverage import paragraphs
from analysis.errors import InputError
from analysis.tables import DICTIONARY, build_tables


def test_every_table_is_written_with_a_dictionary_entry_for_every_column(tiny):
    build_tables(tiny)
    for name, (_, columns) in DICTIONARY.items():
        table = pd.read_csv(tiny.table(name), keep_default_na=False)
        assert list(table.columns) == list(columns), name
    dictionary = pd.read_csv(tiny.table("data_dictionary"))
    assert set(dictionary["table"]) == set(DICTIONARY)
    assert (tiny.tables_dir / "README.md").read_text().count("## ") == len(DICTIONARY)


def test_same_inputs_give_byte_identical_tables(tiny):
    build_tables(tiny)
    first = {p.name: p.read_bytes() for p in tiny.tables_dir.iterdir()}
    build_tables(tiny)
    second = {p.name: p.read_bytes() for p in tiny.tables_dir.iterdir()}
    assert first == second


def test_a_bad_input_leaves_the_previous_tables_untouched(tiny):
    build_tables(tiny)
    before = {p.name: p.read_bytes() for p in tiny.tables_dir.iterdir()}
    sheet = tiny.coding_csv("alpha")
    sheet.write_text(sheet.read_text().replace(",timeliness,", ",late,"), encoding="utf-8")
    with pytest.raises(InputError):
        build_tables(tiny)
    after = {p.name: p.read_bytes() for p in tiny.tables_dir.iterdir()}
    assert after == before


def test_segments_table_carries_canonical_code_and_category(tiny):
    build_tables(tiny)
    segs = pd.read_csv(tiny.table("segments"), keep_default_na=False).set_index("segment_id")
    assert segs.loc["alpha-001", "code"] == "alpha_open_door"
    assert segs.loc["alpha-001", "canonical_code"] == "openness"
    assert segs.loc["alpha-001", "category"] == "dimension"


def test_paragraphs_end_at_line_breaks_after_sentence_final_punctuation():
    text = ("Hasil penelitian menunjukkan bahwa pimpinan membuka ruang \n\ndialog dengan "
            "pegawai setiap minggu dalam rapat koordinasi. \n\nNamun demikian sebagian "
            "pegawai masih bekerja sendiri sendiri tanpa koordinasi yang memadai sama sekali.\n"
            "Judul Pendek\n")
    spans = paragraphs(text, 0, len(text))
    assert len(spans) == 2
    assert text[spans[0][0]:spans[0][1]].endswith("rapat koordinasi.")
    assert text[spans[1][0]:spans[1][1]].startswith("Namun demikian")
