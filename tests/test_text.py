"""The sentence splitter: PDF line breaks, abbreviations, numbers, headings, lists."""

from __future__ import annotations

import pytest

from analysis.paths import ROOT
from analysis.text import corpus_sentences, sentence_texts, sentences


def split(text: str) -> list[str]:
    frame = sentences(text)
    return [text[s:e] for s, e in zip(frame["start"], frame["end"])]


def test_full_stop_question_and_exclamation_mark_end_sentences():
    assert split("Kinerja naik. Apakah cukup? Tentu saja!") == [
        "Kinerja naik.", "Apakah cukup?", "Tentu saja!"]


def test_blank_lines_inside_a_sentence_do_not_end_it():
    text = ("Penelitian ini bertujuan menganalisis komunikasi pada Bagian \n\n"
            "Protokol dan Komunikasi Pimpinan serta faktor yang \n\n"
            "menghambat efektivitasnya. Studi ini kualitatif.")
    assert split(text) == [text[: text.index(" Studi")], "Studi ini kualitatif."]


@pytest.mark.parametrize("abbreviation", ["et al.", "dkk.", "No.", "Dr.", "hlm.", "Jl.",
                                          "S.Sos.", "M.Si."])
def test_abbreviations_do_not_end_sentences(abbreviation):
    text = f"Menurut Arghode {abbreviation} Pegawai bekerja baik. Hasil berikutnya."
    assert split(text) == [f"Menurut Arghode {abbreviation} Pegawai bekerja baik.",
                           "Hasil berikutnya."]


def test_an_initial_does_not_end_a_sentence():
    assert split("Menurut A. Rahman kinerja naik. Selesai.") == [
        "Menurut A. Rahman kinerja naik.", "Selesai."]


def test_decimal_numbers_and_thousands_do_not_end_sentences():
    assert split("Nilai rata-rata 3.5 dan anggaran Rp 5.000 per hari. Berikutnya.") == [
        "Nilai rata-rata 3.5 dan anggaran Rp 5.000 per hari.", "Berikutnya."]


def test_a_year_ends_a_sentence_but_a_list_number_does_not():
    assert split("Data diambil pada tahun 2018. Pada tahun itu kinerja naik.") == [
        "Data diambil pada tahun 2018.", "Pada tahun itu kinerja naik."]
    assert split("Hasilnya sebagai berikut : 1. Dinamika interaksi baik. 2. Strategi jelas.") == [
        "Hasilnya sebagai berikut : 1. Dinamika interaksi baik.", "2. Strategi jelas."]


def test_a_full_stop_before_a_lower_case_word_does_not_end_a_sentence():
    assert split("Pegawai dll. bekerja baik. Selesai.") == ["Pegawai dll. bekerja baik.",
                                                           "Selesai."]


def test_dll_before_a_capital_ends_a_sentence():
    assert split("Saluran: email, papan, dll. Kepala distrik merespons.") == [
        "Saluran: email, papan, dll.", "Kepala distrik merespons."]


def test_closing_quotes_and_brackets_stay_with_their_sentence():
    assert split('Ia berkata "kami siap." Lalu pergi. (Catatan lapangan.) Akhir.') == [
        'Ia berkata "kami siap."', "Lalu pergi.", "(Catatan lapangan.)", "Akhir."]


def test_a_heading_line_is_a_sentence_of_its_own():
    text = ("Latar Belakang Masalah  \n\nOrganisasi publik menuntut komunikasi.\n\n"
            "Gaya Komunikasi\nSebagai Kepala Distrik ia merespons cepat\n\n"
            "Keterbukaan Terhadap Ide dan Masukkan\nKepala distrik transparan.")
    assert split(text) == [
        "Latar Belakang Masalah", "Organisasi publik menuntut komunikasi.", "Gaya Komunikasi",
        "Sebagai Kepala Distrik ia merespons cepat", "Keterbukaan Terhadap Ide dan Masukkan",
        "Kepala distrik transparan."]


def test_a_title_case_line_continued_in_lower_case_is_not_a_heading():
    text = "Kepala Bagian Protokol dan Komunikasi Pimpinan\n\nmemberi arahan yang jelas."
    assert split(text) == [text]


def test_a_keyword_line_with_commas_is_not_a_heading():
    text = "Kata Kunci: Komunikasi Interpersonal, Kinerja Pegawai, Dukungan \n\nKerja. \n\nABSTRACT"
    assert split(text) == [text[: text.index("Kerja.") + 6], "ABSTRACT"]


def test_bullets_and_numbered_lines_start_new_sentences():
    text = ("Tantangan yang dihadapi:\n\n• Kurangnya keterampilan komunikasi\n\n"
            "• Beban kerja yang tinggi\n1) Budaya birokrasi yang kaku")
    assert split(text) == ["Tantangan yang dihadapi:", "• Kurangnya keterampilan komunikasi",
                           "• Beban kerja yang tinggi", "1) Budaya birokrasi yang kaku"]


def test_table_has_numbered_sorted_non_overlapping_stripped_spans():
    text = "  Satu dua.\n\n Tiga empat?  Lima.  "
    frame = sentences(text)
    assert list(frame.columns) == ["sentence_no", "start", "end"]
    assert frame["sentence_no"].tolist() == [1, 2, 3]
    assert (frame["start"].iloc[1:].to_numpy() >= frame["end"].iloc[:-1].to_numpy()).all()
    for s, e in zip(frame["start"], frame["end"]):
        assert text[s:e] == text[s:e].strip() != ""


def test_empty_and_blank_texts_have_no_sentences():
    assert sentences("").empty and sentences(" \n\n ").empty
    assert list(sentences("").columns) == ["sentence_no", "start", "end"]


def test_offsets_are_code_points_outside_the_basic_plane():
    text = "Pegawai saling mendukung 😀 dalam tim. Sarana terbatas."
    frame = sentences(text)
    assert text[frame["start"].iloc[1]:frame["end"].iloc[1]] == "Sarana terbatas."


def test_corpus_sentences_number_each_source_from_one():
    frame = corpus_sentences({"b": "Satu. Dua.", "a": "Tiga."})
    assert frame[["source_id", "sentence_no"]].values.tolist() == [["a", 1], ["b", 1], ["b", 2]]


def test_sentence_texts_show_line_breaks_as_spaces():
    text = "Pegawai \n\nbekerja. Selesai."
    assert sentence_texts(text, sentences(text)).tolist() == ["Pegawai bekerja.", "Selesai."]


RAW = sorted((ROOT / "data" / "raw").glob("*.txt"))


@pytest.mark.skipif(not RAW, reason="data/raw/*.txt not present yet (written by the data stage)")
@pytest.mark.parametrize("path", RAW, ids=lambda p: p.stem)
def test_every_visible_character_of_a_raw_text_lies_in_exactly_one_sentence(path):
    text = path.read_text(encoding="utf-8")
    frame = sentences(text)
    starts, ends = frame["start"].to_numpy(), frame["end"].to_numpy()
    assert (starts[1:] >= ends[:-1]).all() and (starts < ends).all()
    between = "".join(text[e:s] for e, s in zip([0, *ends], [*starts, len(text)]))
    assert between.strip() == ""


def test_a_text_is_split_once_and_every_call_gets_its_own_frame():
    from analysis.text import sentence_spans

    text = "Satu dua tiga. Empat lima enam."
    sentence_spans.cache_clear()
    first = sentences(text)
    first.loc[0, "start"] = 99  # a caller changing its frame changes nobody else's
    second = sentences(text)
    assert second["start"].tolist() == [0, 15]
    info = sentence_spans.cache_info()
    assert (info.misses, info.hits) == (1, 1)
