"""Every file location of the kit, in one place.

Three classes of files live apart: read-only inputs (``data/raw``), hand-made
data (``data/*.csv`` and the per-site folders) and generated outputs
(``reports/``). Code never builds a path by hand: it asks a :class:`Layout`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The checkout the package was installed from (editable install)."""

DEFAULT_DATA = ROOT / "data"
DEFAULT_OUT = ROOT / "reports"
NOTEBOOKS = ROOT / "notebooks"


@dataclass(frozen=True)
class Layout:
    """Where one corpus's inputs are read from and its outputs written to."""

    data: Path = DEFAULT_DATA
    out: Path = DEFAULT_OUT

    @classmethod
    def of(cls, data: str | Path | None = None, out: str | Path | None = None) -> "Layout":
        return cls(Path(data) if data else DEFAULT_DATA, Path(out) if out else DEFAULT_OUT)

    # inputs -------------------------------------------------------------
    @property
    def raw_dir(self) -> Path:
        return self.data / "raw"

    @property
    def sources_csv(self) -> Path:
        return self.data / "sources.csv"

    @property
    def sites_csv(self) -> Path:
        return self.data / "sites.csv"

    @property
    def codebook_csv(self) -> Path:
        return self.data / "codebook.csv"

    @property
    def coding_dir(self) -> Path:
        return self.data / "coding"

    def coding_csv(self, site: str) -> Path:
        return self.coding_dir / f"{site}.csv"

    @property
    def second_coding_dir(self) -> Path:
        """Independent second codings (same format as coding/), for agreement."""
        return self.data / "second_coding"

    @property
    def sections_dir(self) -> Path:
        return self.data / "sections"

    def sections_csv(self, source_id: str) -> Path:
        return self.sections_dir / f"{source_id}.csv"

    @property
    def appraisal_dir(self) -> Path:
        return self.data / "appraisal"

    @property
    def casp_questions_csv(self) -> Path:
        return self.data / "casp_questions.csv"

    @property
    def guidance_csv(self) -> Path:
        return self.data / "guidance.csv"

    @property
    def cerqual_csv(self) -> Path:
        return self.data / "cerqual.csv"

    @property
    def glosses_csv(self) -> Path:
        return self.data / "glosses.csv"

    @property
    def corpus_csv(self) -> Path:
        """The report's title and date (``key,value`` rows)."""
        return self.data / "corpus.csv"

    @property
    def lexicon_csv(self) -> Path:
        return self.data / "lexicon.csv"

    @property
    def memo_dir(self) -> Path:
        return self.data.parent / "docs" / "coding"

    # outputs ------------------------------------------------------------
    @property
    def tables_dir(self) -> Path:
        return self.out / "tables"

    def table(self, name: str) -> Path:
        return self.tables_dir / f"{name}.csv"

    @property
    def figures_dir(self) -> Path:
        return self.out / "figures"

    @property
    def notebooks_dir(self) -> Path:
        return self.out / "notebooks"

    @property
    def report_pdf(self) -> Path:
        return self.out / "comparison.pdf"

    @property
    def cache_dir(self) -> Path:
        """Results kept between runs, each under a key of its inputs (analysis.cache)."""
        return self.out / "cache"

    @property
    def report_build_dir(self) -> Path:
        return self.out / "build"
