"""The ``validate`` command: one verdict per input file, by the loaders the commands use.

:func:`validate` runs :func:`analysis.sources.load_inputs` in its non-strict mode
(every file of the corpus gets a verdict; a file whose prerequisite failed is
``not checked: needs FILE``), then the inputs only later stages read, each with
the loader of the stage that reads it: ``cerqual.csv`` (``tables``), and
``corpus.csv`` and ``glosses.csv`` (``report``). So "N of N files valid" means that
no command refuses the data. This module sits above the stages (it imports them);
nothing imports it but the command line.
"""

from __future__ import annotations

from analysis import report, synthesis
from analysis.paths import Layout
from analysis.sources import Checks, load_inputs, present


def validate(layout: Layout) -> list[tuple[str, str]]:
    """Check every input file; return one ``(file, verdict)`` pair per file.

    A verdict is ``ok ...`` (possibly with a warning), ``FAIL <one-line error>`` or
    ``not checked: needs FILE`` (a file it depends on failed or is missing). Files
    are checked in the order the data flow reads them.
    """
    checks = Checks(layout, strict=False)
    corpus = load_inputs(checks)
    if present(layout.cerqual_csv):
        checks.step(layout.cerqual_csv,
                    lambda: synthesis.load_findings(corpus),
                    lambda t: f"ok ({len(t)} findings)",
                    needs=[layout.codebook_csv, layout.sites_csv])
    checks.step(layout.corpus_csv, lambda: report.load_corpus_meta(layout),
                lambda m: f"ok ({len(m)} keys)")
    if present(layout.glosses_csv):
        sheets = [layout.coding_csv(site) for site in corpus.site_ids] \
            if corpus.sites is not None else []
        checks.step(layout.glosses_csv,
                    lambda: report.load_glosses(layout, report._known_segment_ids(corpus)),
                    lambda g: f"ok ({len(g)} glosses)",
                    needs=[layout.sites_csv, *sheets, layout.guidance_csv])
    return checks.verdicts
