"""A study's text from its PDF or .docx (analysis.pdftext), built here with typst and
zipfile: pages, running headers and footers, hyphenation, scans refused."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from analysis.errors import InputError
from analysis.pdftext import PAGE_BREAK, extract_pdf, read_study

typst = pytest.importorskip("typst")

PAGES = [
    "= HASIL DAN PEMBAHASAN\nKepala kantor selalu terbuka kepada pegawai.",
    "Pegawai mendapat penghargaan atas prestasi kerja. Komunikasi peme-\\ rintahan baik.",
    "= KESIMPULAN\nKeterbukaan pimpinan meningkatkan motivasi kerja.",
]


def make_pdf(folder: Path, pages: list[str], name: str = "study.pdf",
             running: bool = True) -> Path:
    """A PDF of ``pages`` (typst markup), each with a running header and a numbered footer."""
    setup = ('#set page(width: 14cm, height: 10cm, header: [Jurnal Administrasi Publik '
             'Vol. 3], footer: context [Halaman #counter(page).display()])\n'
             if running else "#set page(width: 14cm, height: 10cm)\n")
    source = folder / (name + ".typ")
    source.write_text(setup + "\n#pagebreak()\n".join(pages) + "\n", encoding="utf-8")
    pdf = folder / name
    pdf.write_bytes(typst.compile(str(source)))
    return pdf


def test_pages_are_joined_by_a_form_feed_line_without_running_headers_and_footers(tmp_path):
    pdf = make_pdf(tmp_path, PAGES)
    result = extract_pdf(pdf)
    pages = result.text.split(f"\n{PAGE_BREAK}\n")
    assert len(pages) == result.n_pages == 3
    assert pages[0].startswith("HASIL DAN PEMBAHASAN\nKepala kantor selalu terbuka")
    assert pages[2] == "KESIMPULAN\nKeterbukaan pimpinan meningkatkan motivasi kerja.\n"
    assert "Jurnal Administrasi" not in result.text and "Halaman" not in result.text
    assert result.removed == ["Jurnal Administrasi Publik Vol. 3", "Halaman 1", "Halaman 2",
                              "Halaman 3"]


def test_a_hyphen_at_a_line_end_is_kept_as_printed(tmp_path):
    result = extract_pdf(make_pdf(tmp_path, PAGES))
    assert "peme-\nrintahan" in result.text


def test_a_line_on_only_some_pages_is_not_a_running_header(tmp_path):
    pages = ["Tabel 1 Informan\nKepala kantor terbuka.", "Pegawai bekerja.", "Tabel 1 Informan",
             "Sarana terbatas.", "Arahan jelas."]
    result = extract_pdf(make_pdf(tmp_path, pages, running=False))
    assert result.text.count("Tabel 1 Informan") == 2 and result.removed == []


def test_the_pdf_checksum_and_name_are_recorded_and_extraction_is_repeatable(tmp_path):
    pdf = make_pdf(tmp_path, PAGES)
    first, second = read_study(pdf), read_study(pdf)
    assert first.origin_sha256 == hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert first.origin_file == "study.pdf" and first.kind == "pdf"
    assert first.data == second.data


def test_a_scanned_pdf_without_a_text_layer_is_refused_in_one_line(tmp_path):
    source = tmp_path / "scan.typ"
    source.write_text('#set page(width: 8cm, height: 8cm)\n#rect(width: 5cm, height: 3cm, '
                      'fill: gray)\n#pagebreak()\n#circle(radius: 1cm)\n', encoding="utf-8")
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(typst.compile(str(source)))
    with pytest.raises(InputError, match=r"no text layer on any of its 2 page\(s\)") as err:
        read_study(pdf)
    assert "OCR" in str(err.value) and "\n" not in str(err.value)
    assert err.value.file == str(pdf)


def test_a_file_that_is_not_a_pdf_is_refused(tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7\nthis is not a pdf\n")
    with pytest.raises(InputError, match="not a readable PDF"):
        read_study(bad)


def make_docx(path: Path, paragraphs: list[str], page_break_after: int = 0) -> Path:
    body = []
    for i, text in enumerate(paragraphs, 1):
        run = f"<w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r>"
        if i == page_break_after:
            run += '<w:r><w:br w:type="page"/></w:r>'
        body.append(f"<w:p>{run}</w:p>")
    xml = ('<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.'
           'openxmlformats.org/wordprocessingml/2006/main"><w:body>' + "".join(body)
           + "</w:body></w:document>")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", xml)
    return path


def test_a_docx_gives_one_line_per_paragraph_and_a_form_feed_line_at_a_page_break(tmp_path):
    docx = make_docx(tmp_path / "study.docx", ["HASIL", "Kepala kantor terbuka.",
                                               "Pegawai bekerja."], page_break_after=2)
    result = read_study(docx)
    assert result.text == "HASIL\nKepala kantor terbuka.\n\f\n\nPegawai bekerja.\n"
    assert result.kind == "docx"
    assert result.origin_sha256 == hashlib.sha256(docx.read_bytes()).hexdigest()


def test_a_docx_without_a_document_part_is_refused(tmp_path):
    path = tmp_path / "empty.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("other.xml", "<x/>")
    with pytest.raises(InputError, match="not a Word .docx"):
        read_study(path)
