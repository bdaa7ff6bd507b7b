"""The ``kit_data`` marker: the selection the end-to-end walk of a new site reruns.

That walk (tests/test_new_site_end_to_end.py) adds a site to a copy of the kit and then
runs ``pytest -m kit_data`` over the files that read the kit's own data; a marker
forgotten or mistyped would quietly shrink what it proves. Here the selection is
collected (nothing runs) and must hold every committed notebook's nbval cells and the
tests of the kit's data, coding, report and notebooks.
"""

from __future__ import annotations

import pytest

from analysis.paths import NOTEBOOKS, ROOT

pytest.importorskip("nbval")


class Collected:
    """A pytest plugin keeping the ids of the items a session selected."""

    def __init__(self):
        self.ids: list[str] = []

    def pytest_collection_finish(self, session):
        self.ids = [item.nodeid for item in session.items]


def test_the_kit_data_selection_holds_every_notebook_and_the_data_tests(capsys):
    from test_new_site_end_to_end import TEST_FILES

    collected = Collected()
    status = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", "-m", "kit_data",
                          "--nbval", "--nbval-current-env", "--rootdir", str(ROOT),
                          *[str(ROOT / name) for name in TEST_FILES]], plugins=[collected])
    capsys.readouterr()
    assert status == 0
    files = {nodeid.split("::")[0] for nodeid in collected.ids}
    notebooks = {f"notebooks/{p.name}" for p in NOTEBOOKS.glob("*.ipynb")}
    assert notebooks and notebooks <= files, (notebooks, files)
    cells = [n for n in collected.ids if n.startswith("notebooks/")]
    assert all(any(c.startswith(nb) for c in cells) for nb in notebooks)
    assert {"tests/test_coding_data.py", "tests/test_report.py", "tests/test_notebooks.py",
            "tests/test_autocode.py"} <= files, files
    # tests that build their own corpus are not selected
    assert not any("test_a_typst_string_literal_escapes" in n for n in collected.ids)
    assert any(n.endswith("[real]") for n in collected.ids)
    assert not any(n.endswith("[synthetic]") for n in collected.ids)
