"""Coding suggestions from a transparent lexicon, matched sentence by sentence.

A suggestion says: *this sentence contains terms of this canonical code*. It is
a pointer for a researcher, never a coded finding: the new-site command writes
suggestions into a coding sheet with ``status`` ``suggested``, and
:func:`analysis.sources.load_corpus` keeps them out of every table until a
researcher accepts them (``docs/new_site.md``).

How a sentence gets a suggestion (every number below is fixed in this module; the
learning values and thresholds were chosen before the leave-one-site-out
evaluation was run and not tuned on it; :data:`NEGATIVE_WINDOW`, the cue lists and
the lexicon additions of issue 14 were set on the tune split of the development
set, ``data/devset``, and scored once on its held-out split):

1. The text is cut into sentences (:func:`analysis.text.sentences`). Only
   sentences that start in an ``abstract``, ``results`` or ``conclusion`` span
   of the section map are considered (:data:`SUGGEST_SECTIONS`); a sentence
   that is a heading line, or that states the study's aim or method and no
   finding (:func:`is_frame_sentence`), is skipped.
2. Each word is reduced to a stem: Indonesian words by the rule-based affix
   stripper :func:`stem_id` (no dictionary), English words by the light suffix
   stripper :func:`stem_en`. Lexicon terms are stemmed by the same function, so
   ``keterbukaan``, ``terbuka`` and ``membuka`` all match the term ``terbuka``.
3. A term matches when its stems occur in the sentence as consecutive words; a
   term written ``a + b`` matches when every part occurs somewhere in the
   sentence (``kurang + pelatihan``); a part ``<negative>`` asks for a word of
   :data:`NEGATIVE_CUES` within :data:`NEGATIVE_WINDOW` words of the term, a part
   ``!word`` for the word's absence.
4. Terms come from two places: the hand-written lexicon ``data/lexicon.csv``
   (one row per code x language x term, weight 1 unless the row says
   otherwise), and terms *learned* from the sites already coded
   (:func:`learn_terms`: a stem that occurs in at least
   :data:`LEARN_MIN_SENTENCES` sentences coded with the code, at
   :data:`LEARN_MIN_SITES` or more sites, and whose sentences carry the code at
   least :data:`LEARN_MIN_PRECISION` of the time; its weight is that share).
5. A sentence is suggested for a code when the weights of the distinct terms of
   that code it contains add up to at least :data:`THRESHOLD`. The memo of the
   suggestion lists the terms matched, with their origin and weight, and the
   sentence's negative cues. A site is suggested a code (:func:`site_codes`) when
   its sentence scores for the code add up to :data:`SITE_THRESHOLD`;
   :func:`devset_evaluation` scores that against readings of unseen studies.

:func:`leave_one_site_out` evaluates this honestly: for each site with hand
coding, terms are learned from the *other* sites only, suggestions are made on
the site's text with a section map guessed from its headings (its hand-made
map is not used), and the suggestions are compared with its hand coding at
sentence level per category (:func:`analysis.agreement.sentence_agreement`).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from array import array
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.agreement import coded_sentences
from analysis.errors import InputError
from analysis.io import read_input_bytes
from analysis.schema import SLUG, Column, Schema, read_table
from analysis.sources import (  # noqa: F401 (load_lexicon re-exported)
    LANGUAGES, NEGATIVE, NOT, SECTIONS, load_lexicon)
from analysis.text import is_heading, sentence_spans, sentences as split_sentences

SUGGEST_SECTIONS = ("abstract", "results", "conclusion")
"""Sections whose sentences get suggestions (the sections the coding conventions code
findings in; background and method are coded only where they report site data)."""

THRESHOLD = 1.0
"""A code is suggested when the weights of its distinct matched terms add up to this."""

SITE_THRESHOLD = 1.0
"""A code is suggested for a whole site (:func:`site_codes`) when the scores of its
sentence suggestions add up to this."""

LEARN_MIN_SENTENCES = 3
"""A learned term occurs in at least this many training sentences coded with the code ..."""

LEARN_MIN_SITES = 2
"""... at this many training sites or more (a site's name or idiom is not learned) ..."""

LEARN_MIN_PRECISION = 0.5
"""... and at least this share of the training sentences that contain it carry the code."""

LEARN_MIN_LENGTH = 4
"""Stems shorter than this are not learned."""

CATEGORIES = ("dimension", "practice", "barrier", "outcome")
ALL = "(all)"

# --------------------------------------------------------------------------- stemming

PROTECTED_ID = frozenset({
    "masalah", "sekolah", "istilah", "adalah", "telah", "salah", "bulan", "jalan", "teman",
    "taman", "badan", "digital", "disiplin", "distrik", "diskusi", "dialog", "dinamika",
    "diri", "dinas", "media", "pegawai", "kerjasama", "masukan", "sebelum",
})
"""Indonesian words left whole: stripping them would make another word (``masalah`` is
not ``masa`` + ``-lah``) or a stem that reads badly (``distrik``)."""

_VOWELS = frozenset("aeiou")
MIN_STEM = 4
"""No affix is removed if fewer than this many letters would remain."""


def _strip_suffixes(word: str) -> str:
    for particle in ("lah", "kah", "pun"):
        if word.endswith(particle) and len(word) - 3 >= MIN_STEM:
            word = word[:-3]
            break
    if word.endswith("nya") and len(word) - 3 >= MIN_STEM:
        word = word[:-3]
    for suffix in ("kan", "an"):
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
            return word[:-len(suffix)]
    if (word.endswith("i") and len(word) - 1 >= MIN_STEM and word[-2] not in _VOWELS
            and word[-2] != "s"):
        return word[:-1]
    return word


def _strip_prefix(word: str) -> str:
    """One prefix off (meN-, peN-, ber-, per-, ter-, di-, ke-, se-), or the word unchanged."""
    def rest(n: int, add: str = "") -> str | None:
        stem = add + word[n:]
        return stem if len(stem) >= MIN_STEM and _VOWELS & set(stem) else None

    w = word
    for head in ("me", "pe"):
        if not w.startswith(head):
            continue
        tail = w[2:]
        if tail.startswith("ny") and tail[2:3] in _VOWELS:
            out = rest(4, "s")                      # menyampaikan -> sampai
        elif tail.startswith("ng") and tail[2:3] in _VOWELS:
            out = rest(4)                           # mengatur -> atur
        elif tail.startswith("ng"):
            out = rest(4)                           # menggantung -> gantung
        elif tail.startswith("m") and tail[1:2] in _VOWELS:
            out = rest(3, "p")                      # memimpin -> pimpin
        elif tail.startswith("m") and tail[1:2] in set("bpfv"):
            out = rest(3)                           # membuka -> buka
        elif tail.startswith("n") and tail[1:2] in _VOWELS:
            out = rest(3, "t")                      # meningkat -> tingkat
        elif tail.startswith("n") and tail[1:2] in set("cdjz"):
            out = rest(3)                           # mendukung -> dukung
        elif head == "pe" and tail.startswith("r") and tail[1:2] not in _VOWELS:
            out = rest(3)                           # perhatian -> hati (per-)
        elif tail[:1] in set("lmnrwy"):
            out = rest(2)                           # melayani -> layan, perasaan -> rasa
        else:
            out = None
        if out:
            return out
    if w.startswith("ber"):
        return rest(3) or w
    if w.startswith("be") and w[3:5] == "er":      # bekerja -> kerja
        return rest(2) or w
    for head in ("ter", "di", "ke", "se"):
        if w.startswith(head):
            return rest(len(head)) or w
    return w


@lru_cache(maxsize=None)
def stem_id(word: str) -> str:
    """The stem of an Indonesian word by a small rule-based affix stripper (no dictionary).

    Lower-cased; then the particles ``-lah``, ``-kah``, ``-pun``, the possessive
    ``-nya``, one derivational suffix (``-kan``, ``-an``, or ``-i`` after a
    consonant other than ``s``), and up to two prefixes (``meN-``/``peN-`` with
    their sound changes: ``meny-`` -> ``s``, ``mem-`` + vowel -> ``p``, ``men-`` +
    vowel -> ``t``, ``meng-``; ``ber-``, ``be-`` before ``-er-``, ``per-``,
    ``ter-``, ``di-``, ``ke-``, ``se-``) are removed, each only if at least
    :data:`MIN_STEM` letters remain. Words in :data:`PROTECTED_ID` stay whole.
    Without a dictionary the stripper errs (``kebijakan`` -> ``bija``); it errs
    the same way on the lexicon's terms and on the text, which is what matching
    needs.
    """
    word = word.lower()
    if word in PROTECTED_ID or len(word) <= MIN_STEM:
        return word
    stem = _strip_suffixes(word)
    for _ in range(2):
        if stem in PROTECTED_ID:
            break
        shorter = _strip_prefix(stem)
        if shorter == stem:
            break
        stem = shorter
    return stem


@lru_cache(maxsize=None)
def stem_en(word: str) -> str:
    """The stem of an English word: plural ``-s``/``-es``/``-ies``, ``-ing``, ``-ed`` and a
    final ``-e`` removed (``evaluation``/``evaluations`` -> ``evaluation``)."""
    word = word.lower().removesuffix("'s")
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[:-len(suffix)]
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


STEMMERS = {"id": stem_id, "en": stem_en}

_WORD = re.compile(r"[^\W\d_]+")
_LINE_HYPHEN = re.compile(r"(?<=[^\W\d_])-[ \t]*\r?\n\s*(?=[^\W\d_])")


def words(text: str) -> list[str]:
    """The words of a text, lower-cased; a word hyphenated across a line break is joined,
    any other hyphen separates words (``e-Gov`` -> ``e``, ``gov``)."""
    return [w.lower() for w in _WORD.findall(_LINE_HYPHEN.sub("", text))]


def stems(text: str, language: str) -> list[str]:
    stem = STEMMERS[language]
    return [stem(w) for w in words(text)]


NEGATIVE_WINDOW = 6
"""Words between a ``<negative>`` cue and the term it qualifies, at most (set on the
development set's tune split: the cues there stand 1 to 6 words from their term)."""

NEGATIVE_CUES = {
    "id": """kurang kurangnya kekurangan belum tidak tak bukan minim minimnya rendah rendahnya
    lemah lemahnya terbatas keterbatasan hambatan menghambat penghambat terhambat kendala
    penghalang masalah permasalahan sulit kesulitan buruk memburuk menurun penurunan lambat
    jarang gagal kegagalan salah kesalahan bingung kebingungan tekanan tertekan keluhan
    mengeluh""".split(),
    "en": """lack lacking lack of insufficient inadequate not no poor low limited barrier
    obstacle problem difficult difficulty slow rarely fail failure weak unclear confusion
    complaint""".split(),
}
"""Words that mark a problem, a lack or a negation: a barrier's neutral terms
(``sarana``, ``pemangku kepentingan``) need one in the sentence (``<negative>``), and
they tell the memo that a positive code's valence may be negative."""

FRAME_CUES = {
    "id": ("tujuan penelitian", "tujuan dari penelitian", "penelitian ini bertujuan",
           "bertujuan untuk", "untuk mengetahui",
           "metode penelitian", "jenis penelitian", "pendekatan kualitatif",
           "teknik pengumpulan data", "pengumpulan data", "analisis data", "sumber data",
           "subjek penelitian", "fokus penelitian", "kata kunci", "keywords"),
    "en": ("aim of this study", "this study aims", "purpose of this", "research method",
           "data collection", "data analysis", "keywords"),
}
"""Phrases of a sentence that states a study's aim, method or keywords rather than a
finding: such a sentence gets no suggestion unless it also holds a :data:`FINDING_CUES`
phrase (the title-like aim sentence names every topic the study looked at)."""

FINDING_CUES = {
    "id": ("hasil penelitian", "menunjukkan", "menunjukan", "disimpulkan", "kesimpulan",
           "temuan", "ditemukan"),
    "en": ("result", "show", "found", "finding", "conclude"),
}
"""Phrases that mark a sentence as reporting findings, even with a :data:`FRAME_CUES`
phrase in it."""


def term_parts(term: str, language: str) -> tuple[tuple[str, ...], ...]:
    """A term as its parts (``a + b``), each a tuple of consecutive stems; the part
    ``<negative>`` is ``(NEGATIVE,)`` and a part ``!word`` is ``(NOT, stem...)``."""
    parts = []
    for part in term.split("+"):
        part = part.strip()
        if part == NEGATIVE:
            parts.append((NEGATIVE,))
        elif part.startswith(NOT):
            parts.append((NOT, *stems(part[1:], language)))
        else:
            parts.append(tuple(stems(part, language)))
    return tuple(parts)


def _positive_parts(parts: tuple[tuple[str, ...], ...]) -> list[tuple[str, ...]]:
    return [p for p in parts if p and p[0] not in (NEGATIVE, NOT)]


@lru_cache(maxsize=None)
def _cue_stems(language: str) -> frozenset[str]:
    return frozenset(STEMMERS[language](w) for w in NEGATIVE_CUES[language])


def negative_cues(sequence: tuple[str, ...], language: str) -> list[str]:
    """The stems of :data:`NEGATIVE_CUES` in a sentence's stems, sorted."""
    return sorted(set(sequence) & _cue_stems(language))


@lru_cache(maxsize=None)
def _cue_phrases(language: str, kind: str) -> tuple[tuple[tuple[str, ...], frozenset[str]], ...]:
    """Each cue phrase of ``kind`` (``frame``: :data:`FRAME_CUES`, else
    :data:`FINDING_CUES`) that has a word, as its stems with the set of them (a phrase can
    stand in a sentence only if all of them do)."""
    table = FRAME_CUES if kind == "frame" else FINDING_CUES
    phrases = (tuple(stems(p, language)) for p in table[language])
    return tuple((p, frozenset(p)) for p in phrases if p)


def is_frame_sentence(sequence: tuple[str, ...], language: str) -> bool:
    """True for a sentence that states aim, method or keywords and no finding
    (:data:`FRAME_CUES`, :data:`FINDING_CUES`)."""
    present = set(sequence)

    def has(kind: str) -> bool:
        return any(needed <= present and _contains(sequence, phrase, present)
                   for phrase, needed in _cue_phrases(language, kind))
    return has("frame") and not has("finding")


# --------------------------------------------------------------------------- lexicon

def seed_terms(lexicon: pd.DataFrame | None, language: str) -> pd.DataFrame:
    """The lexicon's terms of one language in the form :func:`match` takes: code, term,
    parts, weight, origin (``lexicon``)."""
    columns = ["code", "term", "parts", "weight", "origin"]
    if lexicon is None or lexicon.empty:
        return pd.DataFrame(columns=columns)
    part = lexicon[lexicon["language"] == language]
    terms = pd.DataFrame({
        "code": part["code"].to_numpy(object),
        "term": part["term"].to_numpy(object),
        "parts": [term_parts(t, language) for t in part["term"]],
        "weight": part["weight"].astype(float).to_numpy(),
        "origin": "lexicon",
    }, columns=columns)
    if terms.empty:
        return terms
    # terms that stem alike (keterbukaan, terbuka) are one term: a word counts once
    merged = terms.groupby(["code", "parts"], sort=False).agg(
        term=("term", " / ".join), weight=("weight", "max")).reset_index()
    merged["origin"] = "lexicon"
    return merged[columns]


# --------------------------------------------------------------------------- section maps

SECTION_HEADINGS = (
    ("abstrak", "abstract"), ("abstract", "abstract_en"), ("pendahuluan", "background"),
    ("latar belakang", "background"), ("introduction", "background"),
    ("background", "background"), ("tinjauan pustaka", "literature"),
    ("kajian pustaka", "literature"), ("kajian teori", "literature"),
    ("landasan teori", "literature"), ("literature", "literature"),
    ("metod", "method"), ("method", "method"), ("hasil", "results"),
    ("pembahasan", "results"), ("result", "results"), ("finding", "results"),
    ("discussion", "results"), ("kesimpulan", "conclusion"), ("simpulan", "conclusion"),
    ("penutup", "conclusion"), ("conclusion", "conclusion"), ("saran", "other"),
    ("rekomendasi", "other"), ("ucapan terima kasih", "other"), ("acknowledg", "other"),
    ("daftar pustaka", "references"), ("referensi", "references"),
    ("reference", "references"), ("bibliogra", "references"),
)
"""Heading beginnings (lower case, numbering removed) and the section they open. In an
English text ``abstract`` opens ``abstract``."""

_NUMBERING = re.compile(r"^(?:[ivxlc]{1,4}|\d+(?:\.\d+)*)\.?\s+")
HEADING_MAX_WORDS = 8


def heading_section(line: str, language: str = "id") -> str | None:
    """The section a heading line opens, by :data:`SECTION_HEADINGS`, or ``None``."""
    core = " ".join(line.strip().strip("#*_ \t").lower().split())
    core = _NUMBERING.sub("", core)
    if not core or len(core.split()) > HEADING_MAX_WORDS:
        return None
    for start, section in SECTION_HEADINGS:
        if core.startswith(start):
            if section == "abstract_en" and language == "en":
                return "abstract"
            return section
    return None


def guess_sections(text: str, source_id: str, language: str = "id") -> pd.DataFrame:
    """A section map guessed from the text's headings (the format of data/sections/).

    A line that looks like a heading (:func:`analysis.text.is_heading`) and begins
    with a word of :data:`SECTION_HEADINGS` (``HASIL DAN PEMBAHASAN``, ``IV.
    SIMPULAN``, ``## **KESIMPULAN**``) opens a span of that section at the start of
    its line (``heading`` is the line without Markdown markers); other
    headings do not cut. Text before the first such heading is ``front_matter``.
    A text with no such heading is one ``results`` span. Rows: source_id,
    section, start, end, heading (the heading line, stripped), contiguous from 0
    to the end of the text.
    """
    columns = SECTIONS.base_names
    lines, position = [], 0
    for content in text.split("\n"):
        lines.append((position, content))
        position += len(content) + 1
    nonblank = [i for i, (_, content) in enumerate(lines) if content.strip()]
    cuts: list[tuple[int, str, str]] = []
    for k, i in enumerate(nonblank):
        start, content = lines[i]
        following = lines[nonblank[k + 1]][1] if k + 1 < len(nonblank) else None
        if not is_heading(content, following):
            continue
        section = heading_section(content, language)
        if section:
            cuts.append((start, section, content.strip().strip("#*_ \t")))
    if not cuts:
        return pd.DataFrame([(source_id, "results", 0, len(text), "")], columns=columns)
    if cuts[0][0] > 0:
        cuts.insert(0, (0, "front_matter", ""))
    ends = [c[0] for c in cuts[1:]] + [len(text)]
    rows = [(source_id, section, start, end, heading)
            for (start, section, heading), end in zip(cuts, ends) if end > start]
    return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------- sentences

def _split_columns(text: str, language: str) -> tuple[np.ndarray, list[bool],
                                                      list[tuple[str, ...]]]:
    """A text's sentences as columns: their (start, end) spans (:func:`sentence_spans`),
    whether each is a heading line, and each one's stems."""
    spans = sentence_spans(text)
    pieces = [text[s:e] for s, e in spans.tolist()]
    heading = [("\n" not in p) and is_heading(p) and p.rstrip()[-1:] not in ".!?"
               for p in pieces]
    return spans, heading, [tuple(stems(p, language)) for p in pieces]


def _split(text: str, source_id: str, language: str) -> pd.DataFrame:
    """One row per sentence: source_id, sentence_no, start, end, heading, stems."""
    frame = split_sentences(text)
    frame.insert(0, "source_id", source_id)
    _, heading, stems_ = _split_columns(text, language)
    frame["heading"] = heading
    frame["stems"] = stems_
    return frame


def sentence_units(text: str, source_id: str, section_map: pd.DataFrame,
                   language: str) -> pd.DataFrame:
    """One row per sentence of a text: source_id, sentence_no, start, end, heading (True for
    a heading line), stems (a tuple), section (of the map, at the sentence start)."""
    from analysis.sources import sections_at

    frame = _split(text, source_id, language)
    frame["section"] = sections_at(section_map, frame["start"].to_numpy("int64"))
    return frame


def _occurrences(sequence: tuple[str, ...], part: tuple[str, ...]) -> list[tuple[int, int]]:
    n = len(part)
    return [(i, i + n - 1) for i in range(len(sequence) - n + 1) if sequence[i:i + n] == part]


def _near_negative(sequence: tuple[str, ...], parts: tuple[tuple[str, ...], ...],
                   language: str) -> bool:
    """True when a negative cue stands within :data:`NEGATIVE_WINDOW` words of an
    occurrence of one of the term's parts that must occur."""
    cues = _cue_stems(language)
    where = [i for i, stem in enumerate(sequence) if stem in cues]
    spans = [span for part in _positive_parts(parts) for span in _occurrences(sequence, part)]
    return any(first - NEGATIVE_WINDOW <= i <= last + NEGATIVE_WINDOW
               for first, last in spans for i in where)


def _contains(sequence: tuple[str, ...], part: tuple[str, ...], present: set[str],
              language: str = "id") -> bool:
    if part[0] == NEGATIVE:
        return bool(present & _cue_stems(language))
    if part[0] == NOT:
        return not _contains(sequence, part[1:], present)
    if len(part) == 1:
        return part[0] in present
    if not set(part) <= present:
        return False
    n = len(part)
    return any(sequence[i:i + n] == part for i in range(len(sequence) - n + 1))


MATCH_COLUMNS = ["source_id", "sentence_no", "code", "term", "weight", "origin"]


def match(units: pd.DataFrame, terms: pd.DataFrame, language: str = "id") -> pd.DataFrame:
    """Which terms each sentence contains: one row per sentence x term matched.

    ``units``: :func:`sentence_units` rows; ``terms``: code, term, parts, weight,
    origin. Columns: source_id, sentence_no, code, term, weight, origin. One pass
    over the sentences; a term is tried only where a stem of a part that must occur
    occurs (``<negative>`` parts look for the ``language``'s :data:`NEGATIVE_CUES`).
    """
    all_parts = terms["parts"].tolist()
    by_first: dict[str, list[int]] = {}
    for t, parts in enumerate(all_parts):
        for part in _positive_parts(parts):
            by_first.setdefault(part[0], []).append(t)
    # each match as (unit, term) positions: two arrays of machine integers, not a tuple of
    # six objects per match (at 5000 synthetic sites, 300,000 matches)
    unit_of, term_of = array("q"), array("q")
    for u, sequence in enumerate(units["stems"].tolist()):
        present = set(sequence)
        for t in sorted({t for s in present for t in by_first.get(s, ())}):
            parts = all_parts[t]
            if all(_contains(sequence, part, present, language) for part in parts) and (
                    (NEGATIVE,) not in parts or _near_negative(sequence, parts, language)):
                unit_of.append(u)
                term_of.append(t)
    at_unit, at_term = np.frombuffer(unit_of, dtype=np.int64), np.frombuffer(term_of,
                                                                             dtype=np.int64)
    out = pd.DataFrame([], columns=MATCH_COLUMNS) if not len(at_unit) else pd.DataFrame({
        "source_id": units["source_id"].to_numpy(object)[at_unit].tolist(),
        "sentence_no": units["sentence_no"].to_numpy(np.int64)[at_unit].tolist(),
        **{c: terms[c].to_numpy(object if c != "weight" else np.float64)[at_term].tolist()
           for c in ("code", "term", "weight", "origin")}}, columns=MATCH_COLUMNS)
    out = out.drop_duplicates(["source_id", "sentence_no", "code", "term", "origin"])
    return out.sort_values(["source_id", "sentence_no", "code", "origin", "term"],
                           kind="stable").reset_index(drop=True)


SUGGESTION_COLUMNS = ["source_id", "sentence_no", "start", "end", "section", "code", "score",
                      "matched"]


def _frame_sentences(units: pd.DataFrame, language: str) -> np.ndarray:
    """For each unit, True when it is an aim/method sentence (:func:`is_frame_sentence`)."""
    return np.fromiter((is_frame_sentence(seq, language) for seq in units["stems"]),
                       dtype=bool, count=len(units))


def _eligible(units: pd.DataFrame, section: str = "section", language: str = "id",
              frame: np.ndarray | None = None) -> pd.DataFrame:
    """The sentences suggestions are made in: in :data:`SUGGEST_SECTIONS`, not a heading
    line, and not an aim/method sentence (``frame``: :func:`_frame_sentences` of the
    units, computed here unless given)."""
    keep = units[section].isin(SUGGEST_SECTIONS).to_numpy(bool) & ~units["heading"].astype(
        bool).to_numpy()
    frame = _frame_sentences(units, language) if frame is None else frame
    return units[keep & ~frame]


def _scored(hits: pd.DataFrame, eligible: pd.DataFrame, section: str = "section",
            language: str = "id") -> pd.DataFrame:
    """Sentence x code rows whose matched weights reach :data:`THRESHOLD`; ``matched``
    lists the terms and, where the sentence has them, its :data:`NEGATIVE_CUES` (a hint
    that the valence may be negative)."""
    if hits.empty:
        return pd.DataFrame(columns=SUGGESTION_COLUMNS)
    keys = ["source_id", "sentence_no", "code"]
    grouped = hits.groupby(keys, sort=True)["weight"].sum().rename("score").reset_index()
    # each group's labels joined in the hits' order: a stable sort puts the groups in the
    # order of the groupby above, and each group's hits in one run (a pandas string
    # aggregation made a Series per group: 300,000 at 5000 synthetic sites)
    in_order = hits.sort_values(keys, kind="stable")
    key = list(zip(*(in_order[k].tolist() for k in keys)))
    labels = [f"'{t}' ({o}, {w:g})" for t, o, w in
              zip(in_order["term"], in_order["origin"], in_order["weight"])]
    grouped["matched"] = ["; ".join(labels[i] for i in run) for _, run in
                          itertools.groupby(range(len(key)), key=key.__getitem__)]
    del in_order, key, labels
    grouped = grouped[grouped["score"] >= THRESHOLD - 1e-9]
    out = _with_places(grouped, eligible[["source_id", "sentence_no", "start", "end", section,
                                          "stems"]].rename(columns={section: "section"}))
    cues = [negative_cues(seq, language) for seq in out["stems"]]
    out["matched"] = [m + ("; negative cue " + ", ".join(f"'{c}'" for c in cue)
                           if cue else "") for m, cue in zip(out["matched"], cues)]
    out["score"] = out["score"].round(4)
    return out[SUGGESTION_COLUMNS].sort_values(["source_id", "start", "end", "code"],
                                               kind="stable").reset_index(drop=True)


def _with_places(rows: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (with source_id, sentence_no) joined with the columns of ``places`` (one
    row per source_id and sentence_no) of the same sentence; rows without one are left
    out. The inner merge on both keys, found by sorted integer keys instead of hashing
    the source names of both tables (at 5000 synthetic sites the merge's hash tables
    were the evaluation's peak)."""
    if rows.empty or places.empty:
        return rows.merge(places, on=["source_id", "sentence_no"])
    number = {source: i for i, source in enumerate(dict.fromkeys(places["source_id"]))}
    width = int(max(places["sentence_no"].max(), rows["sentence_no"].max(), 0)) + 1

    def key(frame: pd.DataFrame) -> np.ndarray:
        source = frame["source_id"].map(number).fillna(-1).to_numpy(np.int64)
        return source * width + frame["sentence_no"].to_numpy(np.int64)

    place_key = key(places)
    order = np.argsort(place_key, kind="stable")
    at, found = _positions(place_key[order], key(rows))
    out = rows[found].reset_index(drop=True)
    at = order[at[found]]
    for column in places.columns.drop(["source_id", "sentence_no"]):
        out[column] = places[column].iloc[at].reset_index(drop=True)
    return out


def suggest(units: pd.DataFrame, terms: pd.DataFrame, language: str = "id") -> pd.DataFrame:
    """One row per sentence x code suggested: source_id, sentence_no, start, end, section,
    code, score, matched (the terms, their origin and weight, for the memo).

    Only sentences in :data:`SUGGEST_SECTIONS` that are not heading lines count; a
    code is suggested when its matched terms' weights add up to :data:`THRESHOLD`.
    """
    eligible = _eligible(units, language=language)
    return _scored(match(eligible, terms, language), eligible, language=language)


def coded_units(segments: pd.DataFrame, sentences: pd.DataFrame, codebook: pd.DataFrame,
                by: str) -> pd.DataFrame:
    """The sentences each segment codes, with its code mapped to the codebook column ``by``
    (``category``, ``canonical_code``): one row per (source_id, sentence_no, label), sorted,
    no duplicates. The units of :func:`analysis.agreement.sentence_agreement`
    (:func:`analysis.agreement.coded_sentences`), for the segments of the sources that
    ``sentences`` covers."""
    segs = segments[segments["source_id"].isin(set(sentences["source_id"]))]
    return coded_sentences(segs, sentences, by=by, codebook=codebook)


# --------------------------------------------------------------------------- learning

STOPWORDS_ID = frozenset("""
yang dan di ke dari dalam pada untuk dengan ini itu tersebut adalah akan juga oleh sebagai
atau tidak ada dapat lebih karena secara serta bahwa agar bagi hal para telah sudah masih
belum harus bisa hanya setiap antara terhadap melalui namun tetapi sehingga maka jika
apabila saat ketika seperti yaitu yakni merupakan memiliki menjadi sangat selalu lain
masing semua seluruh banyak berbagai beberapa suatu sesuatu mereka kami kita saya ia dia
lagi tentang hingga sampai sejak tanpa baik cukup sama mana bagaimana apa siapa mengapa
sebuah seorang dilakukan melakukan adanya dimana yakni pula bahkan sedang demikian
""".split())
STOPWORDS_EN = frozenset("""
the a an and or of to in on for with by from as at is are was were be been being this that
these those it its their they them which who whom whose not no but also than then there
has have had do does did can could may might will would should must such into about
between through during after before over under more most other some any each all both
""".split())


def _stopword_stems(language: str) -> frozenset[str]:
    words_ = STOPWORDS_ID if language == "id" else STOPWORDS_EN
    return frozenset(STEMMERS[language](w) for w in words_) | words_


def corpus_units(texts: dict[str, str], sections: dict[str, pd.DataFrame],
                 sources: pd.DataFrame, coding: pd.DataFrame, codebook: pd.DataFrame,
                 sites: list[str], language: str) -> pd.DataFrame:
    """Every sentence of the sites' sources in ``language``, split and stemmed once.

    One row per sentence: site, source_id, sentence_no, start, end, heading, stems,
    hand_section (by the hand-made section map, else the guessed one),
    guessed_section (by :func:`guess_sections`), codes (sorted tuple of the distinct
    canonical codes that segments of ``coding`` overlapping the sentence carry; a tuple
    rather than a set: at 5000 synthetic sites, sets took 50 MB more).
    """
    from analysis.sources import sections_at

    columns = ["site", "source_id", "sentence_no", "start", "end", "heading", "stems",
               "hand_section", "guessed_section", "codes"]
    own = sources[sources["site"].isin(sites) & (sources["language"] == language)]
    # built as columns, text by text (a frame per text, then joined, held every text's
    # frame at once: about 120 MB more at 5000 synthetic sites)
    site_of, source_of, numbers, spans, heading, stems_, hand_of, guessed_of = (
        [] for _ in range(8))
    first_row: dict[str, int] = {}  # the row of each source's first sentence
    for site, source_id in sorted(zip(own["site"], own["source_id"])):
        text = texts[source_id]
        span, head, stem = _split_columns(text, language)
        offsets = span[:, 0]
        guessed = sections_at(guess_sections(text, source_id, language), offsets)
        hand = sections.get(source_id)
        first_row[source_id] = len(site_of)
        site_of += [site] * len(span)
        source_of += [source_id] * len(span)
        numbers.append(np.arange(1, len(span) + 1, dtype=np.int64))
        spans.append(span)
        heading += head
        stems_ += stem
        guessed_of.append(guessed)
        hand_of.append(sections_at(hand, offsets) if hand is not None else guessed)
    if not spans:
        return pd.DataFrame(columns=columns)
    number = np.concatenate(numbers)
    span = np.concatenate(spans)
    start, end = span[:, 0].copy(), span[:, 1].copy()
    del numbers, spans, span
    labels = coded_units(coding[["source_id", "start", "end", "code"]],
                         pd.DataFrame({"source_id": source_of, "sentence_no": number,
                                       "start": start, "end": end}),
                         codebook, "canonical_code")
    # labels are sorted by source, sentence, code: each sentence's codes are one run of rows
    rows = np.fromiter((first_row[s] for s in labels["source_id"]), dtype=np.int64,
                       count=len(labels)) + labels["sentence_no"].to_numpy("int64") - 1
    codes: list[tuple[str, ...]] = [()] * len(site_of)
    for row, run in itertools.groupby(zip(rows.tolist(), labels["canonical_code"].tolist()),
                                      key=lambda pair: pair[0]):
        codes[row] = tuple(sorted({code for _, code in run}))
    del labels, rows
    return pd.DataFrame({
        "site": site_of, "source_id": source_of, "sentence_no": number, "start": start,
        "end": end, "heading": heading, "stems": stems_,
        "hand_section": np.concatenate(hand_of), "guessed_section": np.concatenate(guessed_of),
        "codes": codes}, columns=columns)


def training_units(texts: dict[str, str], sections: dict[str, pd.DataFrame],
                   sources: pd.DataFrame, coding: pd.DataFrame, codebook: pd.DataFrame,
                   sites: list[str], language: str) -> pd.DataFrame:
    """The sentences terms are learned from: those of :func:`corpus_units` that lie in
    :data:`SUGGEST_SECTIONS` of the hand-made section map (else the guessed one) and
    are not headings. Columns: site, source_id, sentence_no, stems, codes."""
    units = corpus_units(texts, sections, sources, coding, codebook, sites, language)
    units = _eligible(units, "hand_section", language)
    return units[["site", "source_id", "sentence_no", "stems", "codes"]].reset_index(drop=True)


@dataclasses.dataclass
class TermCounts:
    """What the training units hold for learning terms, counted as integer ids.

    Sites, stems and codes are numbered in the sorted order of their names, so that
    sorting ids sorts names. ``stem_key`` (sorted, distinct) encodes (site, stem) as
    ``site * n_stems + stem``, with ``n_sentences`` the number of training sentences of
    the site holding the stem. ``code_stem`` (sorted, distinct) encodes (code, stem) as
    ``code * n_stems + stem`` for each code and stem coded together at some site, with
    ``coded`` the sentences holding the stem coded with the code over every site and
    ``code_sites`` the number of those sites. ``pair_key`` encodes (site, code, stem) as
    ``(site * n_codes + code) * n_stems + stem``, with ``n_coded`` the number of the
    site's sentences holding the stem coded with the code, for the (code, stem) pairs
    :func:`_term_counts` was asked to keep (all by default). Kept as ids until a table is
    asked for: at 5000 synthetic sites, counting them as rows of strings took 5.3 s and
    620 MB on top of the sentence units; as ids, a chunk of units at a time, it takes
    about 1.5 s. The suggestions' evaluation keeps the per-site counts of the pairs that
    can pass the learning rule in some fold only: 103 of 2682 on the kit's four studies,
    151,685 of 2,617,274 on 5000 synthetic sites."""

    sites: np.ndarray
    codes: np.ndarray
    stems: np.ndarray
    stem_key: np.ndarray
    n_sentences: np.ndarray
    code_stem: np.ndarray
    coded: np.ndarray
    code_sites: np.ndarray
    pair_key: np.ndarray
    n_coded: np.ndarray

    @property
    def n_stems(self) -> int:
        return max(len(self.stems), 1)

    @property
    def n_codes(self) -> int:
        return max(len(self.codes), 1)

    def per_stem(self) -> pd.DataFrame:
        """One row per site and stem: site, stem, n_sentences (sorted)."""
        return pd.DataFrame({"site": self.sites[self.stem_key // self.n_stems],
                             "stem": self.stems[self.stem_key % self.n_stems],
                             "n_sentences": self.n_sentences})

    def per_pair(self) -> pd.DataFrame:
        """One row per site, code and stem kept: site, code, stem, n_coded (sorted)."""
        ns, nc = self.n_stems, self.n_codes
        return pd.DataFrame({"site": self.sites[self.pair_key // (nc * ns)],
                             "code": self.codes[self.pair_key // ns % nc],
                             "stem": self.stems[self.pair_key % ns],
                             "n_coded": self.n_coded})

    def totals(self) -> pd.DataFrame:
        """Over every site: code, stem, n_coded, n_sites, n_sentences (training sentences
        holding the stem), and ``most``: the most sentences with the stem at one site;
        one row per code and stem coded together somewhere, sorted by code, then stem."""
        ns = self.n_stems
        stem_of = self.stem_key % ns
        sentences = np.bincount(stem_of, weights=self.n_sentences, minlength=ns)
        most = np.zeros(ns, dtype=np.int64)
        np.maximum.at(most, stem_of, self.n_sentences)
        stem = self.code_stem % ns
        return pd.DataFrame({
            "code": self.codes[self.code_stem // ns], "stem": self.stems[stem],
            "n_coded": self.coded, "n_sites": self.code_sites,
            "n_sentences": sentences[stem].astype("int64"), "most": most[stem]})

    def own(self, site: pd.Series, code: pd.Series, stem: pd.Series) -> tuple[np.ndarray,
                                                                               np.ndarray]:
        """For each (site, code, stem) row: the site's own n_coded and n_sentences
        (0 where the site has none)."""
        def ids(names: np.ndarray, values: pd.Series) -> np.ndarray:
            number = {name: i for i, name in enumerate(names)}
            return np.fromiter((number.get(v, -1) for v in values), dtype=np.int64,
                               count=len(values))

        s, c, t = ids(self.sites, site), ids(self.codes, code), ids(self.stems, stem)
        known = (s >= 0) & (c >= 0) & (t >= 0)
        pair = np.where(known, (s * self.n_codes + c) * self.n_stems + t, -1)
        single = np.where(known, s * self.n_stems + t, -1)
        return (_lookup(self.pair_key, self.n_coded, pair),
                _lookup(self.stem_key, self.n_sentences, single))


def _lookup(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """``values`` at each wanted key of the sorted ``keys`` (never negative); 0 where it is
    absent, a wanted -1 included."""
    if not len(keys):
        return np.zeros(len(wanted), dtype="int64")
    at, found = _positions(keys, wanted)
    return np.where(found, values[at], 0).astype("int64")


def _positions(keys: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each wanted key: a position in the sorted, non-empty ``keys`` and whether the
    key there is the wanted one."""
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return at, keys[at] == wanted


def _term_counts(units: pd.DataFrame, language: str,
                 keep_pairs: Callable[[pd.DataFrame], np.ndarray] | None = None) -> TermCounts:
    """The :class:`TermCounts` of the training units: each sentence's distinct stems,
    stop words and stems shorter than :data:`LEARN_MIN_LENGTH` left out, counted per
    site, per code (over every site), and per site and code.

    ``keep_pairs`` takes the totals (:meth:`TermCounts.totals`) and says, row by row,
    which (code, stem) pairs to keep the per-site counts of (default: all); those are
    then counted in a second pass over the units, so that the per-site counts of the
    others are never held. Units are counted a chunk at a time, in site order, each
    chunk holding whole sites (:func:`_site_chunks`), so that only one chunk's stems are
    held as flat arrays."""
    stop = _stopword_stems(language)
    site_ids, site_names = pd.factorize(units["site"].to_numpy(object), sort=True)
    site_ids = site_ids.astype(np.int64)
    stem_names = _names(units["stems"])
    code_names = _names(units["codes"])
    n_stems, n_codes = max(len(stem_names), 1), max(len(code_names), 1)
    keep = np.fromiter((len(s) >= LEARN_MIN_LENGTH and s not in stop for s in stem_names),
                       dtype=bool, count=len(stem_names))
    stem_number = {name: i for i, name in enumerate(stem_names)}
    code_number = {name: i for i, name in enumerate(code_names)}
    every_code = np.ones(len(code_names), dtype=bool)
    stems_of, codes_of = units["stems"].tolist(), units["codes"].tolist()
    order = np.argsort(site_ids, kind="stable")
    chunks = _site_chunks(site_ids[order])

    def keys(begin: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """The (site, stem) key of each distinct stem of the chunk's units, and the
        (site, code, stem) key of each of their (code, stem) pairs."""
        rows = order[begin:end].tolist()
        site = site_ids[order[begin:end]]
        # each unit's distinct kept stems (a stem twice in a sentence counts once)
        stem_unit, stem_ids = _distinct_ids([stems_of[i] for i in rows], stem_number, keep)
        code_unit, code_ids = _distinct_ids([codes_of[i] for i in rows], code_number,
                                            every_code)
        # every (unit, code) row joined with the unit's stems: a unit's stems are one
        # slice of the stem rows, repeated once per code of the unit
        per_unit = np.bincount(stem_unit, minlength=end - begin)
        first = np.cumsum(per_unit) - per_unit
        repeats = per_unit[code_unit]
        offset = np.arange(int(repeats.sum())) - np.repeat(np.cumsum(repeats) - repeats,
                                                           repeats)
        offset += np.repeat(first[code_unit], repeats)
        pairs = np.repeat(site[code_unit] * n_codes + code_ids, repeats)
        pairs *= n_stems
        pairs += stem_ids[offset]
        return site[stem_unit] * n_stems + stem_ids, pairs

    per_stem, per_code_stem, per_pair = [], [], []
    for begin, end in chunks:
        stem_keys, pair_keys = keys(begin, end)
        per_stem.append(np.unique(stem_keys, return_counts=True))
        pair, count = np.unique(pair_keys, return_counts=True)
        code_stem, where = np.unique(pair % (n_codes * n_stems), return_inverse=True)
        per_code_stem.append((code_stem, np.bincount(where, weights=count).astype(np.int64),
                              np.bincount(where)))
        if keep_pairs is None:
            per_pair.append((pair, count))
    counts = TermCounts(np.asarray(site_names, dtype=object), code_names, stem_names,
                        *_count_keys(per_stem), *_count_keys(per_code_stem, width=3),
                        np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    if keep_pairs is not None:
        wanted = counts.code_stem[np.asarray(keep_pairs(counts.totals()), dtype=bool)]
        for begin, end in chunks if len(wanted) else ():
            pair = keys(begin, end)[1]
            per_pair.append(np.unique(pair[np.isin(pair % (n_codes * n_stems), wanted)],
                                      return_counts=True))
    counts.pair_key, counts.n_coded = _count_keys(per_pair)
    return counts


def _names(items: pd.Series) -> np.ndarray:
    """The distinct items of every unit's collection, sorted: an id is a position here."""
    names = sorted(set(itertools.chain.from_iterable(items)))
    as_array = np.empty(len(names), dtype=object)
    as_array[:] = names
    return as_array


TERM_COUNT_CHUNK = 10_000
"""Units counted at a time by :func:`_term_counts` (more when a site has more). At 5000
synthetic sites, with every pair kept, counting all units at once peaked at about 390 MB
above the units, and counting them 10,000 at a time at about 80 MB, in a third of the
time."""


def _site_chunks(site: np.ndarray) -> list[tuple[int, int]]:
    """(begin, end) ranges of rows covering ``site`` (each row's site id), of at least
    :data:`TERM_COUNT_CHUNK` rows but the last, cut only where the site changes: with rows
    in site order, no site is in two chunks."""
    changes = np.flatnonzero(site[1:] != site[:-1]) + 1
    cuts = [0]
    for at in changes.tolist():
        if at - cuts[-1] >= TERM_COUNT_CHUNK:
            cuts.append(at)
    if len(site) > cuts[-1]:
        cuts.append(len(site))
    return list(zip(cuts[:-1], cuts[1:]))


def _distinct_ids(items: list, number: dict, keep: np.ndarray) -> tuple[np.ndarray,
                                                                        np.ndarray]:
    """Each unit's distinct items whose id (``number[item]``) is kept (``keep[id]``), as
    (unit's position in ``items``, id) arrays sorted by unit, then id."""
    lengths = np.fromiter(map(len, items), dtype=np.int64, count=len(items))
    flat = np.fromiter((number[x] for x in itertools.chain.from_iterable(items)),
                       dtype=np.int64, count=int(lengths.sum()))
    unit = np.repeat(np.arange(len(items), dtype=np.int64), lengths)
    kept = keep[flat] if len(flat) else np.zeros(0, dtype=bool)
    width = max(len(keep), 1)
    pairs = np.unique(unit[kept] * width + flat[kept])
    return pairs // width, pairs % width


def _count_keys(parts: list[tuple[np.ndarray, ...]], width: int = 2) -> tuple[np.ndarray, ...]:
    """The distinct keys of every part's (sorted distinct keys, counts...), sorted, each
    count added up over the parts, as int64: ``width`` arrays (keys and counts). When
    each part's keys all exceed the previous part's (sites in order: site-first keys),
    the parts are put one after another; otherwise they are merged (the same result, at
    the cost of one sort of them all). ``parts`` is emptied, so that each part's arrays
    are freed once joined."""
    parts[:] = [tuple(a.astype(np.int64, copy=False) for a in p) for p in parts if len(p[0])]
    columns = [[p[i] for p in parts] for i in range(width)]
    parts.clear()
    if not columns[0]:
        return tuple(np.zeros(0, dtype=np.int64) for _ in range(width))
    keys = columns[0]
    if all(k[0] > prior[-1] for prior, k in zip(keys, keys[1:])):
        return tuple(np.concatenate(c) for c in columns)
    key, where = np.unique(np.concatenate(keys), return_inverse=True)
    return (key, *(np.bincount(where, weights=np.concatenate(c), minlength=len(key))
                   .astype(np.int64) for c in columns[1:]))


def _learned(counts: pd.DataFrame) -> pd.DataFrame:
    """Apply the fixed learning rule to counts (n_sentences, n_coded, n_sites): the rows
    kept, with ``weight`` = n_coded / n_sentences."""
    counts = counts.assign(weight=(counts["n_coded"] / counts["n_sentences"].clip(lower=1))
                           .round(4))
    return counts[(counts["n_coded"] >= LEARN_MIN_SENTENCES)
                  & (counts["n_sites"] >= LEARN_MIN_SITES)
                  & (counts["weight"] >= LEARN_MIN_PRECISION)]


def learn_terms(units: pd.DataFrame, language: str) -> pd.DataFrame:
    """Terms learned from coded sentences: one row per stem x canonical code kept.

    For each stem (not a stopword, at least :data:`LEARN_MIN_LENGTH` letters) and
    code: ``n_sentences`` training sentences contain the stem, ``n_coded`` of them
    are coded with the code, at ``n_sites`` sites; the stem is kept for the code
    when ``n_coded >= LEARN_MIN_SENTENCES``, ``n_sites >= LEARN_MIN_SITES`` and
    ``precision = n_coded / n_sentences >= LEARN_MIN_PRECISION``; its weight is the
    precision. Columns: code, term, parts, weight, origin (``learned``),
    n_sentences, n_coded, n_sites. Sorted by code, then term.
    """
    columns = ["code", "term", "parts", "weight", "origin", "n_sentences", "n_coded", "n_sites"]
    if units.empty:
        return pd.DataFrame(columns=columns)
    kept = _learned(_term_counts(units, language,
                                 keep_pairs=lambda t: np.zeros(len(t), dtype=bool)).totals())
    out = pd.DataFrame({
        "code": kept["code"].to_numpy(object), "term": kept["stem"].to_numpy(object),
        "parts": [((s,),) for s in kept["stem"]], "weight": kept["weight"].to_numpy(float),
        "origin": "learned", "n_sentences": kept["n_sentences"].to_numpy("int64"),
        "n_coded": kept["n_coded"].to_numpy("int64"), "n_sites": kept["n_sites"].to_numpy("int64"),
    }, columns=columns)
    return out.sort_values(["code", "term"], kind="stable").reset_index(drop=True)


def _seed_keys(seed: pd.DataFrame) -> set[tuple[str, str]]:
    """(code, stem) of the one-word seed terms: a learned stem among them is dropped."""
    return {(c, p[0][0]) for c, p in zip(seed["code"], seed["parts"])
            if len(p) == 1 and len(p[0]) == 1}


def combine_terms(seed: pd.DataFrame, learned: pd.DataFrame) -> pd.DataFrame:
    """Seed and learned terms together; a learned stem that is already a one-word seed term
    of the same code is dropped (it would count the same word twice)."""
    columns = ["code", "term", "parts", "weight", "origin"]
    keys = _seed_keys(seed)
    keep = [(c, t) not in keys for c, t in zip(learned["code"], learned["term"])]
    return pd.concat([seed[columns], learned.loc[keep, columns]], ignore_index=True)


# --------------------------------------------------------------------------- from a corpus

def corpus_lexicon(corpus) -> pd.DataFrame | None:
    """The corpus's ``lexicon.csv`` as :func:`analysis.sources.load_corpus` read and
    checked it, or ``None`` when it has none."""
    return corpus.lexicon


def coded_sites(corpus) -> list[str]:
    """The sites with at least one accepted coded segment."""
    return sorted(set(corpus.coding["site"]))


def suggestion_terms(corpus, language: str = "id", sites: list[str] | None = None,
                     lexicon: pd.DataFrame | None = None, seed: bool = True) -> pd.DataFrame:
    """The terms suggestions use: the lexicon's (if ``seed``) and those learned from the
    accepted coding of ``sites`` (default: every site with accepted coding)."""
    sites = coded_sites(corpus) if sites is None else sites
    units = training_units(corpus.texts, corpus.sections, corpus.sources, corpus.coding,
                           corpus.codebook, sites, language)
    learned = learn_terms(units, language)
    base = seed_terms(lexicon if seed else None, language)
    return combine_terms(base, learned)


def suggestions_for_text(text: str, source_id: str, terms: pd.DataFrame,
                         language: str = "id",
                         section_map: pd.DataFrame | None = None) -> pd.DataFrame:
    """Suggestions for one text (a section map guessed from its headings unless given)."""
    smap = section_map if section_map is not None else guess_sections(text, source_id, language)
    return suggest(sentence_units(text, source_id, smap, language), terms, language)


# --------------------------------------------------------------------------- evaluation

EVAL_COLUMNS = ["held_out_site", "lexicon", "category", "n_units", "coded_hand", "coded_auto",
                "coded_both", "precision", "recall", "cohen_kappa", "note"]
COUNTS = ["n_units", "coded_hand", "coded_auto", "coded_both"]


def _can_pass_in_some_fold(total: pd.DataFrame) -> pd.Series:
    """For each row of :meth:`TermCounts.totals`: can the learning rule keep it when some
    site is held out? Leaving a site out lowers n_coded and n_sites, and raises precision
    at most to n_coded / (n_sentences - the most sentences one site has)."""
    room = (total["n_sentences"] - total["most"]).clip(lower=1)
    return ((total["n_coded"] >= LEARN_MIN_SENTENCES) & (total["n_sites"] >= LEARN_MIN_SITES)
            & (total["n_coded"] / room >= LEARN_MIN_PRECISION - 1e-9))


def held_out_suggestions(units: pd.DataFrame, seed: pd.DataFrame,
                         language: str) -> dict[str, pd.DataFrame]:
    """The suggestions each site gets when it is held out, for both lexicons.

    ``units``: :func:`corpus_units` of the coded sites. Terms are learned for each
    held-out site from the *other* sites' training units, without a loop over
    sites: the counts over all sites, minus the held-out site's own counts, are
    what learning from the others would count. Suggestions use the guessed section
    map. Returns ``{"learned": ..., "seed+learned": ...}`` (the second only with
    seed terms), each in the columns of :func:`suggest` plus ``site``.
    """
    frame = _frame_sentences(units, language)
    # only the columns each use reads (a selection copies the columns it keeps), each
    # selected when it is needed
    training = _eligible(units[["site", "stems", "codes", "hand_section", "heading"]],
                         "hand_section", language, frame)
    # the per-site counts are needed only for pairs that can pass in some fold
    counts = _term_counts(training, language, keep_pairs=_can_pass_in_some_fold)
    del training
    total = counts.totals()
    eligible = _eligible(units[["source_id", "sentence_no", "start", "end", "heading",
                                "stems", "guessed_section"]], "guessed_section", language,
                         frame)
    del frame
    candidates = total[_can_pass_in_some_fold(total)]
    learned_terms = pd.DataFrame({
        "code": candidates["code"].to_numpy(object), "term": candidates["stem"].to_numpy(object),
        "parts": [((s,),) for s in candidates["stem"]], "weight": 0.0, "origin": "learned"})
    hits = match(eligible, pd.concat([seed, learned_terms], ignore_index=True), language)
    site_of = dict(zip(units["source_id"], units["site"]))
    hits["site"] = hits["source_id"].map(site_of)
    learned = hits[hits["origin"] == "learned"].rename(columns={"term": "stem"})
    learned = learned.drop(columns="weight").merge(
        total[["code", "stem", "n_sentences", "n_coded", "n_sites"]], on=["code", "stem"])
    own_coded, own_sentences = counts.own(learned["site"], learned["code"], learned["stem"])
    fold = pd.DataFrame({
        "n_coded": learned["n_coded"] - own_coded,
        "n_sentences": learned["n_sentences"] - own_sentences,
        "n_sites": learned["n_sites"] - (own_coded > 0).astype("int64"),
    }, index=learned.index)
    kept = _learned(fold)
    learned = learned.loc[kept.index].assign(weight=kept["weight"]).rename(
        columns={"stem": "term"})[[*MATCH_COLUMNS, "site"]]
    variants = {"learned": learned}
    if not seed.empty:
        keys = _seed_keys(seed)
        not_seed = [(c, t) not in keys for c, t in zip(learned["code"], learned["term"])]
        variants["seed+learned"] = pd.concat(
            [hits[hits["origin"] == "lexicon"][[*MATCH_COLUMNS, "site"]], learned[not_seed]],
            ignore_index=True)
    # scored one lexicon at a time, each with only its own hits still held
    del hits, learned, fold, kept, own_coded, own_sentences
    scored = {}
    for name in list(variants):
        part = variants.pop(name)[MATCH_COLUMNS]
        scored[name] = _scored(part, eligible, "guessed_section", language).assign(
            site=lambda t: t["source_id"].map(site_of))
        del part
    return scored


def _statistics(counts: pd.DataFrame) -> pd.DataFrame:
    """Precision, recall, Cohen's kappa and a note for rows of COUNTS."""
    from analysis.agreement import binary_agreement

    stats = binary_agreement(counts["n_units"], counts["coded_hand"], counts["coded_auto"],
                             counts["coded_both"])
    out = counts.copy()
    for column in ("precision", "recall", "cohen_kappa"):
        out[column] = stats[column].astype(float).round(4).to_numpy()
    notes = []
    for hand, auto, kappa_note in zip(out["coded_hand"], out["coded_auto"], stats["note"]):
        parts = (["no suggestion"] if auto == 0 else []) + \
                (["no hand coding"] if hand == 0 else []) + ([kappa_note] if kappa_note else [])
        notes.append("; ".join(parts))
    out["note"] = notes
    return out


def hand_coded(coding: pd.DataFrame) -> pd.DataFrame:
    """The coded segments a researcher made by hand: rows whose ``origin`` is
    ``suggested`` (made by new-site, then accepted) are left out."""
    if "origin" not in coding.columns:
        return coding
    return coding[coding["origin"] != "suggested"].reset_index(drop=True)


def leave_one_site_out(corpus) -> pd.DataFrame:
    """Leave-one-site-out evaluation of the suggestions against the hand coding.

    For each site with accepted coding (the *held-out* site) whose texts are in a
    language of :data:`LANGUAGES`: terms are learned from the other sites with
    accepted coding (the rule of :func:`learn_terms`; the held-out site's coding
    is never counted), suggestions are made on its texts with a section map
    guessed from the headings (:func:`guess_sections`; its hand-made map is not
    used), and they are compared with its accepted hand coding (primary and
    cited-secondary alike), sentence by sentence, per category: a sentence x
    category is a unit, coded by a side when one of its segments of that category
    overlaps the sentence (:func:`coded_units`: the units of
    :func:`analysis.agreement.sentence_agreement`). Two lexicons: ``learned``
    (terms learned from the other sites only) and ``seed+learned`` (data/lexicon.csv
    as well: what new-site uses; the seed terms were written from a codebook whose
    include rules quote every site, so this row is optimistic). ``held_out_site``
    ``(all)`` pools the sites.

    One row per held-out site x lexicon x category, then ``(all)`` categories: the
    columns of :data:`EVAL_COLUMNS`. Empty with fewer than two coded sites. The
    cost grows linearly with the corpus: every text is split and stemmed once.

    Only hand coding counts (:func:`hand_coded`), as gold and for learning: accepted
    suggestions (``origin`` ``suggested``) would score the suggestions against
    themselves.
    """
    corpus = dataclasses.replace(corpus, coding=hand_coded(corpus.coding))
    sites = coded_sites(corpus)
    if len(sites) < 2:
        return pd.DataFrame(columns=EVAL_COLUMNS)
    lexicon = corpus_lexicon(corpus)
    book = corpus.codebook
    sources = corpus.sources
    suggestions: dict[str, list[pd.DataFrame]] = {}
    all_units = []
    for language in LANGUAGES:
        units = corpus_units(corpus.texts, corpus.sections, sources, corpus.coding, book,
                             sites, language)
        if units.empty:
            continue
        all_units.append(units[["site", "source_id", "sentence_no", "start", "end"]])
        found = held_out_suggestions(units, seed_terms(lexicon, language), language)
        for name, frame in found.items():
            suggestions.setdefault(name, []).append(frame)
    if not suggestions:
        return pd.DataFrame(columns=EVAL_COLUMNS)
    sentences = pd.concat(all_units, ignore_index=True)
    site_of = dict(zip(sentences["source_id"], sentences["site"]))
    held_out = sorted(set(sentences["site"]))
    n_sentences = sentences["site"].value_counts()
    hand = coded_units(corpus.coding, sentences, book, "category")
    grid = pd.MultiIndex.from_product([held_out, list(CATEGORIES)], names=["site", "category"])

    def per_site(frame: pd.DataFrame) -> pd.Series:
        return frame.assign(site=frame["source_id"].map(site_of)).groupby(
            ["site", "category"]).size().reindex(grid, fill_value=0)

    frames = []
    for name in ("learned", "seed+learned"):
        if name not in suggestions:
            continue
        auto_segments = pd.concat(suggestions[name], ignore_index=True)
        auto = coded_units(auto_segments, sentences, book, "category")
        both = hand.merge(auto, on=["source_id", "sentence_no", "category"])
        counts = pd.DataFrame({"coded_hand": per_site(hand), "coded_auto": per_site(auto),
                               "coded_both": per_site(both)}).reset_index()
        counts.insert(2, "n_units", counts["site"].map(n_sentences).astype("int64"))
        site_totals = counts.groupby("site", sort=True)[COUNTS].sum().reset_index().assign(
            category=ALL)
        pooled = counts.groupby("category", sort=False)[COUNTS].sum().reset_index().assign(
            site=ALL)
        everything = pd.DataFrame([{"site": ALL, "category": ALL,
                                    **{c: int(counts[c].sum()) for c in COUNTS}}])
        table = pd.concat([counts, site_totals, pooled, everything], ignore_index=True)
        table["_site"] = table["site"].map(lambda s: (s == ALL, s))
        table["_category"] = table["category"].map(
            {c: i for i, c in enumerate([*CATEGORIES, ALL])})
        table = table.sort_values(["_site", "_category"], kind="stable")
        table = _statistics(table.drop(columns=["_site", "_category"]))
        frames.append(table.rename(columns={"site": "held_out_site"}).assign(lexicon=name))
    out = pd.concat(frames, ignore_index=True)
    out["_site"] = out["held_out_site"].map(lambda s: (s == ALL, s))
    out["_lexicon"] = out["lexicon"].map({"learned": 0, "seed+learned": 1})
    out["_category"] = out["category"].map({c: i for i, c in enumerate([*CATEGORIES, ALL])})
    out = out.sort_values(["_site", "_lexicon", "_category"], kind="stable")
    for column in COUNTS:
        out[column] = out[column].astype("int64")
    return out[EVAL_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------- development set

DEVSET_SPLITS = ("tune", "held_out")
DEVSET_STUDIES = Schema("devset studies", (
    Column("id", pattern=SLUG, hint="a slug naming the study; its text is <id>.txt"),
    Column("split", choices=DEVSET_SPLITS),
    Column("language", choices=LANGUAGES),
    Column("title"),
    Column("url"),
    Column("office"),
    Column("note", required=False),
), unique=("id",))
DEVSET_READINGS = Schema("devset readings", (
    Column("id", pattern=SLUG, hint="a study id of studies.csv"),
    Column("code", pattern=SLUG, hint="a canonical code of codebook.csv"),
    Column("valence", required=False, choices=("positive", "negative", "mixed", "")),
    Column("justification"),
))
DEVSET_COLUMNS = ["split", "study", "n_read", "n_suggested", "n_both", "precision", "recall",
                  "missed", "extra"]


def load_devset(directory: str | Path, codebook: pd.DataFrame) -> tuple[pd.DataFrame,
                                                                        pd.DataFrame]:
    """The development set: ``studies.csv`` (one row per study: id, split, language, title,
    url, office, note) and ``readings.csv`` (one row per study x canonical code a reader
    found the study to report about its own site: id, code, valence, justification).

    Raises :class:`InputError` for a reading of an unknown study or of a code that is not
    a canonical code of the codebook.
    """
    directory = Path(directory)
    studies = read_table(directory / "studies.csv", DEVSET_STUDIES)
    readings_path = directory / "readings.csv"
    readings = read_table(readings_path, DEVSET_READINGS)
    canonical = set(codebook.loc[codebook["parent"] == "", "code"])
    known = set(studies["id"])
    seen: dict[tuple[str, str], int] = {}
    for study, code, line in zip(readings["id"], readings["code"], readings["_line"]):
        if (study, code) in seen:
            raise InputError(readings_path, f"'{code}' read twice for '{study}' (first on line "
                             f"{seen[study, code]})", line=line, column="code")
        seen[study, code] = line
        if study not in known:
            raise InputError(readings_path, f"'{study}' is not a study of studies.csv",
                             line=line, column="id")
        if code not in canonical:
            raise InputError(readings_path, f"'{code}' is not a canonical code of "
                             "codebook.csv", line=line, column="code")
    return studies, readings


def read_devset_texts(studies: pd.DataFrame, texts_dir: str | Path) -> dict[str, str]:
    """``{id: text}`` from ``<texts_dir>/<id>.txt`` (UTF-8) for every study; a missing or
    unreadable text raises :class:`InputError` naming the file."""
    texts = {}
    for study in studies["id"]:
        path = Path(texts_dir) / f"{study}.txt"
        if not path.exists():
            raise InputError(path, "missing: save the study's text (see url in studies.csv) "
                             "under this name")
        data = read_input_bytes(path)  # any other failure to read: one line naming the file
        try:  # line ends made "\n", as a read in text mode makes them
            texts[study] = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
        except UnicodeDecodeError as err:
            raise InputError(path, f"not UTF-8 text ({err.reason} at byte {err.start})") from None
    return texts


def site_codes(suggestions: pd.DataFrame) -> pd.DataFrame:
    """The codes suggested for a whole site from its sentence suggestions: one row per
    code whose evidence (the sum of its sentence scores) reaches :data:`SITE_THRESHOLD`.
    Columns: code, evidence, n_sentences. Sorted by code."""
    columns = ["code", "evidence", "n_sentences"]
    if suggestions.empty:
        return pd.DataFrame(columns=columns)
    out = suggestions.groupby("code", sort=True).agg(
        evidence=("score", "sum"), n_sentences=("score", "size")).reset_index()
    out["evidence"] = out["evidence"].round(4)
    return out[out["evidence"] >= SITE_THRESHOLD - 1e-9][columns].reset_index(drop=True)


def text_suggestions(text: str, source_id: str, terms: pd.DataFrame,
                     language: str = "id") -> pd.DataFrame:
    """Suggestions for a text as new-site makes them: a section map guessed from its
    headings; when the map has no span where suggestions are made, the whole text."""
    smap = guess_sections(text, source_id, language)
    if not smap["section"].isin(SUGGEST_SECTIONS).any():
        smap = pd.DataFrame([(source_id, "results", 0, len(text), "")], columns=smap.columns)
    return suggestions_for_text(text, source_id, terms, language, smap)


def _precision_recall(n_read: int, n_suggested: int, n_both: int) -> tuple[float, float]:
    precision = round(n_both / n_suggested, 4) if n_suggested else float("nan")
    recall = round(n_both / n_read, 4) if n_read else float("nan")
    return precision, recall


def devset_evaluation(studies: pd.DataFrame, readings: pd.DataFrame, texts: dict[str, str],
                      terms: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Site-level precision and recall of the suggestions on the development set.

    For each study, the codes :func:`site_codes` suggests for its text (made as
    new-site makes them, :func:`text_suggestions`, with ``terms[language]``) are
    compared with the codes of its readings. One row per study (split, study, n_read,
    n_suggested, n_both, precision, recall, missed and extra codes), then one pooled
    row per split (``study`` ``(all)``: counts summed over its studies). Sorted by
    split (tune first), then study.
    """
    read = readings.groupby("id")["code"].agg(set).to_dict()
    rows = []
    for study, split, language in zip(studies["id"], studies["split"], studies["language"]):
        found = site_codes(text_suggestions(texts[study], study, terms[language], language))
        suggested, truth = set(found["code"]), read.get(study, set())
        both = suggested & truth
        rows.append({"split": split, "study": study, "n_read": len(truth),
                     "n_suggested": len(suggested), "n_both": len(both),
                     "missed": " ".join(sorted(truth - suggested)),
                     "extra": " ".join(sorted(suggested - truth))})
    per_study = pd.DataFrame(rows, columns=[c for c in DEVSET_COLUMNS
                                            if c not in ("precision", "recall")])
    pooled = per_study.groupby("split", sort=False)[["n_read", "n_suggested", "n_both"]].sum()
    pooled = pooled.reset_index().assign(study=ALL, missed="", extra="")
    out = pd.concat([per_study, pooled], ignore_index=True)
    out["_split"] = out["split"].map({s: i for i, s in enumerate(DEVSET_SPLITS)})
    out["_all"] = out["study"] == ALL
    out = out.sort_values(["_split", "_all", "study"], kind="stable").reset_index(drop=True)
    pr = [_precision_recall(*row) for row in
          zip(out["n_read"], out["n_suggested"], out["n_both"])]
    out["precision"] = [p for p, _ in pr]
    out["recall"] = [r for _, r in pr]
    return out[DEVSET_COLUMNS]


def run_devset(layout, texts_dir: str | Path, devset_dir: str | Path | None = None
               ) -> pd.DataFrame:
    """:func:`devset_evaluation` with the terms new-site would use on the corpus of
    ``layout`` (its lexicon and the terms learned from its accepted coding)."""
    from analysis.sources import load_corpus

    corpus = load_corpus(layout)
    devset_dir = Path(devset_dir) if devset_dir is not None else layout.data / "devset"
    studies, readings = load_devset(devset_dir, corpus.codebook)
    texts = read_devset_texts(studies, texts_dir)
    lexicon = corpus_lexicon(corpus)
    terms = {language: suggestion_terms(corpus, language, lexicon=lexicon)
             for language in sorted(set(studies["language"]))}
    return devset_evaluation(studies, readings, texts, terms)


def main(argv: list[str] | None = None) -> int:
    """``python -m analysis.autocode devset --texts DIR [--data DIR] [--devset DIR]``:
    print the site-level evaluation on the development set as CSV."""
    import argparse
    import sys

    from analysis.paths import Layout

    parser = argparse.ArgumentParser(prog="python -m analysis.autocode")
    sub = parser.add_subparsers(dest="command", required=True)
    dev = sub.add_parser("devset", help="site-level precision/recall of the suggestions on "
                         "the development set (data/devset), per study and pooled per split")
    dev.add_argument("--texts", required=True, help="folder holding <id>.txt for every study")
    dev.add_argument("--data", help="data folder (default: the kit's data/)")
    dev.add_argument("--devset", help="folder of studies.csv and readings.csv "
                     "(default: DATA/devset)")
    args = parser.parse_args(argv)
    try:
        layout = Layout.of(args.data)
        table = run_devset(layout, args.texts, args.devset)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    table.to_csv(sys.stdout, index=False, lineterminator="\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
