"""Deterministic synthetic corpora in the kit's data layout, for benchmarks and scaling tests.

``generate(folder, n_sites, segments_per_site=60, seed=0)`` writes raw texts,
sources.csv, sites.csv, the real codebook's canonical codes, one coding sheet
and one section map per site. The texts are made of Indonesian-looking
sentences drawn from a fixed vocabulary; every segment is a sentence, so every
quote equals the text at its offsets. Each coded sentence ends with a word made of
its code's name (``clear_instructions`` -> ``clearinstructions``): terms are then
learned and suggestions made, so the suggestions' evaluation runs its whole path
(without such words nothing was learned, nothing matched, and a benchmark measured
only the sentence splitting and the counting). Same arguments, same bytes.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import numpy as np

from analysis.paths import DEFAULT_DATA
from analysis.sources import CODING, SECTIONS, SITES, SOURCES

ABSTRACT = "Abstrak\n\nRingkasan studi kasus.\n\n"

WORDS = ("pegawai pimpinan kepala bagian kantor distrik kabupaten komunikasi kinerja "
         "pelayanan masyarakat tugas koordinasi informasi dukungan keterbukaan empati "
         "kerja sama evaluasi arahan rapat program kegiatan sumber daya manusia waktu "
         "organisasi budaya disiplin sarana pelatihan kemampuan").split()


def _csv(header: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _canonical_codebook() -> tuple[str, list[tuple[str, str]]]:
    """The real codebook's canonical rows (as CSV text) and their (code, category) pairs."""
    with open(DEFAULT_DATA / "codebook.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], [r for r in rows[1:] if r[1] == ""]
    return _csv(header, body), [(r[0], r[2]) for r in body]


def generate(folder: str | Path, n_sites: int, segments_per_site: int = 60,
             seed: int = 0) -> Path:
    """Write a synthetic corpus of ``n_sites`` sites into ``folder``; returns the folder."""
    folder = Path(folder)
    (folder / "raw").mkdir(parents=True, exist_ok=True)
    (folder / "coding").mkdir(exist_ok=True)
    (folder / "sections").mkdir(exist_ok=True)
    book_text, codes = _canonical_codebook()
    (folder / "codebook.csv").write_text(book_text, encoding="utf-8")
    rng = np.random.default_rng(seed)
    sources, sites = [], []
    n_sentences = segments_per_site + 20
    for i in range(n_sites):
        site = f"site{i:05d}"
        lengths = rng.integers(8, 20, size=n_sentences)
        words = rng.integers(0, len(WORDS), size=int(lengths.sum()))
        chosen = np.sort(rng.choice(n_sentences, size=segments_per_site, replace=False))
        picks = rng.integers(0, len(codes), size=segments_per_site)
        code_word = {int(s): codes[c][0].replace("_", "") for s, c in zip(chosen, picks)}
        sentences, cursor = [], 0
        for k, n in enumerate(lengths):
            chunk = " ".join([*(WORDS[w] for w in words[cursor:cursor + n]),
                              *([code_word[k]] if k in code_word else [])])
            sentences.append(chunk[0].upper() + chunk[1:] + ".")
            cursor += n
        head = ABSTRACT + "Hasil dan Pembahasan\n\n"
        offsets, parts, position = [], [head], len(head)
        for k, sentence in enumerate(sentences):
            offsets.append(position)
            sep = " " if k % 4 != 3 else "\n\n"
            parts.append(sentence + sep)
            position += len(sentence) + len(sep)
        text = "".join(parts)
        raw = folder / "raw" / f"{site}.txt"
        raw.write_bytes(text.encode("utf-8"))
        sources.append([site, site, "case_study", f"Synthetic study {i}", "", "", "", "id",
                        f"raw/{site}.txt", hashlib.sha256(text.encode()).hexdigest(),
                        "synthetic"])
        sites.append([site, f"Kantor {site}", "kabupaten", "", "", "Bagian Umum",
                      "qualitative descriptive", "interview", "", "", ""])
        positive = rng.random(segments_per_site) < 0.6
        rows = []
        for k, (s, c, pos) in enumerate(zip(chosen, picks, positive), 1):
            code, category = codes[c]
            start = offsets[s]
            quote = sentences[s]
            valence = "negative" if category == "barrier" or not pos else "positive"
            rows.append([f"{site}-{k:03d}", site, start, start + len(quote), quote, code,
                         valence, "author_claim", "", "primary", "results", ""])
        (folder / "coding" / f"{site}.csv").write_text(_csv(CODING.base_names, rows),
                                                       encoding="utf-8")
        (folder / "sections" / f"{site}.csv").write_text(_csv(
            SECTIONS.base_names,
            [[site, "abstract", 0, len(ABSTRACT), "Abstrak"],
             [site, "results", len(ABSTRACT), len(text), "Hasil dan Pembahasan"]]),
            encoding="utf-8")
    (folder / "sources.csv").write_text(_csv(SOURCES.base_names, sources), encoding="utf-8")
    (folder / "sites.csv").write_text(_csv(SITES.base_names, sites), encoding="utf-8")
    return folder


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3:
        print("usage: python -m analysis.synthetic FOLDER N_SITES", file=sys.stderr)
        sys.exit(2)
    generate(sys.argv[1], int(sys.argv[2]))
