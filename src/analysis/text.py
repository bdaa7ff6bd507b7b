"""Sentences of a raw text: a rule-based splitter for PDF extractions.

The raw texts of the kit are PDF extractions: a sentence is often broken over
several lines with blank lines between them, headings stand on their own line
without a full stop, and abbreviations (``et al.``, ``dkk.``, ``No.``) and
numbered lists (``1.``, ``4.1.1.``) put full stops inside sentences. The
splitter therefore ignores line breaks except in three cases, and cuts after
terminal punctuation only when nothing says it is not a sentence end.

The rule (documented with examples in ``docs/agreement.md``):

1. **Terminal punctuation.** A run of ``.``, ``!``, ``?`` or ``…`` (with any
   closing quotes or brackets after it) followed by white space or the end of
   the text ends a sentence, unless
   a. the next visible character is a lower-case letter (the sentence goes on:
      ``dkk. menyatakan``, or an extraction glitch), or
   b. the run is a single ``.`` and the word before it is an abbreviation
      (:data:`ABBREVIATIONS`, case-insensitive, e.g. ``et al.``, ``dkk.``,
      ``No.``, ``Dr.``, ``hlm.``), a single letter (an initial ``A.`` or a list
      letter ``a.``), a Roman numeral (``IV.``), a number of at most three
      digits or a dotted section number (``1.``, ``2.1.``: list items, figure
      numbers; a four-digit year such as ``2018.`` does end a sentence), or a
      word with a full stop inside it (``S.Sos.``, ``M.Si.``, ``i.e.``).
   A full stop inside a number (``3.5``, ``5.000``) is never followed by white
   space and so never ends a sentence.
2. **Headings.** A line that looks like a heading stands as a sentence of its
   own: it has 1 to 20 words, no ``.,;:!?`` at its end and no ``,;`` inside,
   every word except short function words (:data:`FUNCTION_WORDS`) starts with
   a capital letter (``Latar Belakang Masalah``, ``HASIL DAN PEMBAHASAN``,
   ``2.4. Hubungan antara Kinerja Aparatur dengan Kepemimpinan dan Budaya``), and
   the next non-blank line does not start with a lower-case letter.
3. **List items.** A line that starts with a bullet (``•``, ``-``, ``*``, ...)
   or a list marker (``1.``, ``a)``) starts a new sentence.

Blank lines alone never end a sentence. Sentences are stripped of surrounding
white space; the white space between sentences belongs to none.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd

ABBREVIATIONS = frozenset({
    # references and citations
    "al", "dkk", "no", "nos", "hlm", "vol", "pp", "p", "ed", "eds", "cf", "fig",
    "tab", "ibid", "op", "cit", "jld",
    # titles and names
    "dr", "drs", "dra", "prof", "ir", "h", "hj", "st", "mr", "mrs", "ms", "sdr", "sdri",
    "bpk", "tn", "ny", "yth",
    # places, organisations, money
    "jl", "jln", "kab", "kec", "kel", "prov", "pt", "cv", "tbk", "rp", "vs",
})
"""Words that a full stop follows without ending the sentence (lower case, no stop).

``dll.``, ``dsb.``, ``dst.`` and ``etc.`` are *not* listed: they often end a
sentence, so they follow the general rule (a sentence ends when the next word
starts with a capital)."""

FUNCTION_WORDS = frozenset({
    "dan", "di", "ke", "dari", "yang", "dalam", "pada", "untuk", "dengan", "antara",
    "terhadap", "atau", "serta", "sebagai", "oleh", "bagi", "tentang", "melalui", "atas",
    "of", "and", "the", "in", "on", "for", "to", "with", "a", "an", "at", "by", "from",
    "as", "or", "vs",
})
"""Short words that may stay lower case in a title-case heading."""

SPAN_CACHE = 8192
"""How many texts' sentence spans a process remembers (16 bytes a sentence: the spans of
a 500-sentence text take 8 kB; the cache also keeps the texts themselves alive)."""

_TERMINAL = re.compile(r"(?:[.!?\u2026]+)[\"'\u201d\u2019)\]]*(?=\s|$)")
_ROMAN = re.compile(r"[IVXLC]+")
_SECTION_NO = re.compile(r"\d{1,3}(?:\.\d{1,3})*")
_INNER_STOP = re.compile(r".*[^\W\d_]\.[^\W\d_].*")
_WORD = re.compile(r"[^\W\d_][\w'\u2019-]*")
_LIST_START = re.compile(r"[ \t]*(?:[\u2022\u25cf\u25aa\u25a0\u25e6\u00b7\u2013*-][ \t]"
                         r"|(?:\d{1,2}|[A-Za-z])[.)][ \t])")


def _not_a_sentence_end(text: str, match: re.Match) -> bool:
    """True when the punctuation of ``match`` does not end a sentence (rule 1a, 1b)."""
    rest = text[match.end():].lstrip()
    if rest[:1].islower():
        return True
    if match.group().rstrip("\"'\u201d\u2019)]") != ".":
        return False
    window = text[max(0, match.start() - 64):match.start()]
    if not window or window[-1].isspace():
        return False
    word = window.split()[-1].lstrip("(\"'\u201c\u2018[")
    if not word:
        return False
    return (word.lower() in ABBREVIATIONS
            or (len(word) == 1 and word.isalpha())
            or bool(_ROMAN.fullmatch(word))
            or bool(_SECTION_NO.fullmatch(word))
            or bool(_INNER_STOP.fullmatch(word)))


def _lines(text: str) -> list[tuple[int, int, str]]:
    """(start, end, content) of every line, ``end`` before its line break."""
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, pos + len(line), line))
        pos += len(line) + 1
    return out


def is_heading(line: str, next_line: str | None = None) -> bool:
    """Rule 2: does this line (and the next non-blank line) look like a heading?"""
    core = line.strip().strip("#*_ \t\r")
    if not core or core[-1] in ".,;:!?" or re.search(r"[,;]", core):
        return False
    words = _WORD.findall(core)
    if not 1 <= len(words) <= 20:
        return False
    if not all(w[0].isupper() for w in words if w.lower() not in FUNCTION_WORDS):
        return False
    if not words[0][0].isupper():
        return False
    if next_line is not None:
        following = next_line.strip().lstrip("#*_ \t")
        if following[:1].islower():
            return False
    return True


def sentences(text: str) -> pd.DataFrame:
    """Split a raw text into sentences by the rule of this module's docstring.

    Returns one row per sentence in text order: ``sentence_no`` (1, 2, ...),
    ``start``, ``end`` (code-point offsets, ``text[start:end]`` is the sentence
    stripped of surrounding white space; line breaks inside stay). Spans do not
    overlap; an empty or blank text has no sentences. A text is split once per
    process (:func:`sentence_spans` keeps the spans); each call returns a new frame.
    """
    spans = sentence_spans(text)
    frame = pd.DataFrame({"start": spans[:, 0], "end": spans[:, 1]}, dtype=np.int64)
    frame.insert(0, "sentence_no", np.arange(1, len(frame) + 1, dtype=np.int64))
    return frame


@lru_cache(maxsize=SPAN_CACHE)
def sentence_spans(text: str) -> np.ndarray:
    """The (start, end) of every sentence of ``text``, an n x 2 read-only array; the
    splitting behind :func:`sentences`, remembered for the last :data:`SPAN_CACHE` texts so
    that the stages of one run (agreement, suggestions) split each text once."""
    cuts = {0, len(text)}
    for match in _TERMINAL.finditer(text):
        if not _not_a_sentence_end(text, match):
            cuts.add(match.end())
    lines = _lines(text)
    nonblank = [i for i, (_, _, content) in enumerate(lines) if content.strip()]
    for k, i in enumerate(nonblank):
        start, end, content = lines[i]
        following = lines[nonblank[k + 1]][2] if k + 1 < len(nonblank) else None
        if is_heading(content, following):
            cuts.update((start, end))
        elif _LIST_START.match(content):
            cuts.add(start)
    bounds = sorted(cuts)
    spans = []
    for left, right in zip(bounds, bounds[1:]):
        piece = text[left:right]
        stripped = piece.strip()
        if stripped:
            s = left + (len(piece) - len(piece.lstrip()))
            spans.append((s, s + len(stripped)))
    out = np.array(spans, dtype=np.int64).reshape(-1, 2)
    out.flags.writeable = False
    return out


def corpus_sentences(texts: dict[str, str]) -> pd.DataFrame:
    """The sentences of several texts: one row per sentence, with ``source_id`` first.

    Sources in sorted order; ``sentence_no`` restarts at 1 in each source.
    """
    frames = []
    for source_id in sorted(texts):
        frame = sentences(texts[source_id])
        frame.insert(0, "source_id", source_id)
        frames.append(frame)
    if not frames:
        return pd.DataFrame({"source_id": pd.Series(dtype=object),
                             "sentence_no": pd.Series(dtype=np.int64),
                             "start": pd.Series(dtype=np.int64),
                             "end": pd.Series(dtype=np.int64)})
    return pd.concat(frames, ignore_index=True)


def sentence_texts(text: str, frame: pd.DataFrame) -> pd.Series:
    """The text of each sentence of ``frame`` (same index), line breaks shown as spaces."""
    return pd.Series([" ".join(text[s:e].split()) for s, e in zip(frame["start"], frame["end"])],
                     index=frame.index, dtype=object)
