"""The text of a study from its PDF (or Word .docx, or plain text), for ``new-site``.

The kit codes plain UTF-8 texts at character offsets, so a study that arrives as a
PDF is extracted once, and the extraction is what the kit keeps (``data/raw/<slug>.txt``,
byte-exact from then on); the PDF's own sha256 and file name are recorded beside it in
``sources.csv`` (``origin_sha256``, ``origin_file``) so anyone can check which file
the text came from.

The PDF library is **pypdfium2**: Python bindings to PDFium, the PDF engine of
Chromium, maintained and released with binary wheels for Linux, macOS and Windows
(BSD-3-Clause / Apache-2.0). It reads the fonts and damaged files of real journal PDFs
as a browser does, it marks a hyphen it finds at a line end (so the printed hyphen
can be kept), and it is fast: on a 40-page PDF made with typst it extracted every page
in 0.05 s against 0.54 s for the pure-Python pypdf, with the same words.

What the extraction does, in this order (``docs/new_site.md``, "From a PDF"):

1. **Lines.** PDFium's ``\\r\\n`` line ends become ``\\n``; spaces and tabs at line ends
   are dropped; the text is put in Unicode NFC and the typographic ligatures
   (U+FB00-U+FB06) are spelt out (``ﬁ`` -> ``fi``), so that words match; other control
   characters are dropped.
2. **Running headers and footers.** A line among the first or last
   :data:`EDGE_LINES` non-blank lines of a page that recurs, digits aside, on at least
   half of the pages (and on at least :data:`MIN_PAGES_FOR_RUNNING` pages) is a
   running header or footer (journal name, page number) and is removed; the removed
   lines are reported.
3. **Page breaks.** Pages are joined by a line holding only a form feed (U+000C), the
   convention of ``pdftotext``: page *n* begins after the *(n-1)*-th form feed, so a
   quote can be cited by page.
4. **Hyphenation** at line ends is kept as printed (``peme-\\nrintah``): PDFium marks
   such a hyphen (U+FFFE) and joins the halves; the hyphen and line end are put back, so
   the quote stays what the page shows, and the suggestion matcher joins such words
   (:func:`analysis.autocode.words`).

A PDF without a text layer (a scan) is refused: OCR it first.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from analysis.errors import InputError
from analysis.io import read_input_bytes, refuse_nul

PDF_SUFFIXES = (".pdf",)
DOCX_SUFFIXES = (".docx",)
TEXT_SUFFIXES = (".txt", ".text", ".md")
SUFFIXES = PDF_SUFFIXES + DOCX_SUFFIXES + TEXT_SUFFIXES

PAGE_BREAK = "\f"
"""The character on a line of its own between two pages of an extraction."""

EDGE_LINES = 2
"""How many non-blank lines at the top and at the bottom of a page may be running
headers or footers."""

MIN_PAGES_FOR_RUNNING = 3
"""Fewer pages than this: no line is treated as a running header or footer."""

MIN_LETTERS = 1
"""An extraction with fewer letters than this is a scan without a text layer."""

LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi",
             "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"}
_CONTROL = re.compile(r"[\x00\x01\x03-\x08\x0b\x0e-\x1f\x7f]")


@dataclass
class Extraction:
    """A study's text and where it came from."""

    text: str
    origin_file: str = ""
    origin_sha256: str = ""
    kind: str = "text"
    n_pages: int = 0
    empty_pages: list[int] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    """The running header and footer lines removed (one entry per distinct line)."""

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8")


def clean_line(line: str) -> str:
    """One extracted line in NFC, ligatures spelt out, control characters dropped, no
    white space at its end."""
    line = unicodedata.normalize("NFC", line)
    for ligature, letters in LIGATURES.items():
        line = line.replace(ligature, letters)
    return _CONTROL.sub("", line).rstrip(" \t")


def page_lines(raw: str) -> list[str]:
    """The lines of one page's extracted text (any line end), cleaned. PDFium's marks of a
    hyphen at a line end (U+FFFE, in older versions U+0002), after which it joins the
    word's halves, become the printed hyphen and line end again."""
    raw = re.sub("[\ufffe\x02]", "-\n", raw)
    return [clean_line(line) for line in re.split(r"\r\n|\r|\n", raw)]


def _shape(line: str) -> str:
    """A line with its digits blurred, so 'Halaman 3' and 'Halaman 4' are the same line."""
    return re.sub(r"\d+", "#", " ".join(line.split()).lower())


def _edges(lines: list[str]) -> list[int]:
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    return sorted(set(nonblank[:EDGE_LINES] + nonblank[-EDGE_LINES:]))


def running_lines(pages: list[list[str]]) -> set[str]:
    """The shapes (:func:`_shape`) of lines that recur at a page edge on at least half of
    the pages: running headers and footers."""
    if len(pages) < MIN_PAGES_FOR_RUNNING:
        return set()
    counts: dict[str, int] = {}
    for lines in pages:
        for shape in {_shape(lines[i]) for i in _edges(lines)}:
            counts[shape] = counts.get(shape, 0) + 1
    need = max(MIN_PAGES_FOR_RUNNING, (len(pages) + 1) // 2)
    return {shape for shape, n in counts.items() if n >= need and shape}


def join_pages(pages: list[list[str]]) -> tuple[str, list[str]]:
    """The text of the pages with running headers and footers removed, pages separated by
    a form-feed line; and the distinct lines removed, in order of first appearance."""
    running = running_lines(pages)
    removed: list[str] = []
    texts = []
    for lines in pages:
        edges = set(_edges(lines))
        kept = []
        for i, line in enumerate(lines):
            if i in edges and _shape(line) in running:
                if line.strip() not in removed:
                    removed.append(line.strip())
                continue
            kept.append(line)
        while kept and not kept[0].strip():
            kept.pop(0)
        while kept and not kept[-1].strip():
            kept.pop()
        texts.append("".join(line + "\n" for line in kept))
    return (PAGE_BREAK + "\n").join(texts), removed


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def extract_pdf(path: Path, data: bytes | None = None) -> Extraction:
    """The text of a PDF (see the module docstring; ``data``: its bytes, when already read);
    refuses a file that is not a readable PDF, an encrypted one and one without a text
    layer."""
    import pypdfium2

    data = read_input_bytes(path) if data is None else data
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        reason = ("it is encrypted: save an unprotected copy first" if "password" in
                  str(exc).lower() else f"not a readable PDF ({exc})")
        raise InputError(path, reason) from None
    try:
        pages = []
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            pages.append(page_lines(textpage.get_text_range()))
            textpage.close()
            page.close()
    finally:
        document.close()
    text, removed = join_pages(pages)
    empty = [i + 1 for i, lines in enumerate(pages) if not _letters("".join(lines))]
    if _letters(text) < MIN_LETTERS:
        raise InputError(path, f"no text layer on any of its {len(pages)} page(s) (a scanned "
                         "PDF?): run OCR first (e.g. ocrmypdf) and give the OCR'd PDF")
    return Extraction(text, path.name, hashlib.sha256(data).hexdigest(), "pdf", len(pages),
                      empty, removed)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def extract_docx(path: Path, data: bytes | None = None) -> Extraction:
    """The text of a Word .docx (``data``: its bytes, when already read): one line per
    paragraph, tabs and line breaks kept, a form-feed line at each hard page break."""
    from defusedxml import ElementTree

    data = read_input_bytes(path) if data is None else data
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("word/document.xml")
            if info.file_size > 200 * 2**20:
                raise InputError(path, "word/document.xml is larger than 200 MB")
            root = ElementTree.fromstring(archive.read(info))
    except (zipfile.BadZipFile, KeyError):
        raise InputError(path, "not a Word .docx file (no word/document.xml)") from None
    except ElementTree.ParseError as exc:
        raise InputError(path, f"word/document.xml is not well-formed XML ({exc})") from None
    lines: list[str] = []
    for paragraph in root.iter(f"{_W}p"):
        parts = []
        for node in paragraph.iter():
            if node.tag == f"{_W}t":
                parts.append(node.text or "")
            elif node.tag == f"{_W}tab":
                parts.append("\t")
            elif node.tag == f"{_W}br":
                page = node.get(f"{_W}type") == "page"
                parts.append(f"\n{PAGE_BREAK}\n" if page else "\n")
        lines.extend(page_lines("".join(parts)))
    text = "".join(line + "\n" for line in lines)
    if _letters(text) < MIN_LETTERS:
        raise InputError(path, "the document has no text")
    return Extraction(text, path.name, hashlib.sha256(data).hexdigest(), "docx")


def read_plain_text(path: Path, data: bytes | None = None) -> Extraction:
    """A plain UTF-8 text, kept byte for byte; refuses a non-UTF-8 or empty one."""
    data = read_input_bytes(path) if data is None else data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        source = ("utf-16" if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
                  else "latin1")  # the commonest other encodings; the user knows theirs
        raise InputError(path, f"not valid UTF-8 at byte {exc.start} (convert the text to "
                         f"UTF-8 first, e.g. iconv -f {source} -t utf-8)",
                         line=data[: exc.start].count(b"\n") + 1) from None
    return Extraction(text)


def read_study(path: str | Path) -> Extraction:
    """A new study's text from ``path``: a PDF, a Word .docx, or a plain UTF-8 text (any
    other suffix is read as plain text). Refuses a missing or empty file."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    if not path.is_file():
        raise InputError(path, "not a file (expected a PDF, a .docx or a plain-text file)")
    suffix = path.suffix.lower()
    data = read_input_bytes(path)  # read once; each reader works on these bytes
    if suffix in PDF_SUFFIXES or data.startswith(b"%PDF-"):
        result = extract_pdf(path, data)
    elif suffix in DOCX_SUFFIXES:
        result = extract_docx(path, data)
    else:
        result = read_plain_text(path, data)
    if not result.text.strip():
        raise InputError(path, "the text is empty")
    refuse_nul(path, result.text, "text")
    return result
