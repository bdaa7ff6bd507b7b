"""The notebooks: parameters checked, and nbval's comparison really depends on the data.

nbval (run by `make test` over notebooks/) compares each code cell's stored
outputs with a fresh run. These tests show that check can fail: the committed
site notebook, pointed at a copy of the data in which one coding row changed,
fails nbval, while the same notebook on an unchanged copy passes.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.notebooks import SITE_NOTEBOOK, check_parameters, declared_parameters
from analysis.paths import NOTEBOOKS, ROOT


@pytest.mark.kit_data
def test_site_notebook_declares_site_data_dir_and_out_dir():
    assert set(declared_parameters(SITE_NOTEBOOK)) == {"site", "data_dir", "out_dir"}


@pytest.mark.kit_data
def test_an_unknown_parameter_is_an_error():
    with pytest.raises(ValueError, match="unknown parameter.*colour"):
        check_parameters(SITE_NOTEBOOK, {"site": "manoi", "colour": "red"})


@pytest.mark.kit_data
def test_committed_notebooks_carry_outputs_in_most_code_cells():
    for path in NOTEBOOKS.glob("*.ipynb"):
        cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
        with_outputs = sum(1 for c in cells if c.get("outputs"))
        assert with_outputs * 2 >= len(cells), path.name


def _notebook_on(target: Path, *data: Path) -> Path:
    """The committed site notebook's cells once per folder of ``data``, in that order, each
    copy's parameters cell pointing at its folder, stored outputs kept: one notebook, so
    that nbval checks every copy in one kernel."""
    nb = json.loads(SITE_NOTEBOOK.read_text())
    cells = []
    for folder in data:
        for cell in json.loads(json.dumps(nb["cells"])):
            if "parameters" in cell.get("metadata", {}).get("tags", []):
                source = "".join(cell["source"])
                cell["source"] = source.replace('data_dir = ""', f"data_dir = {str(folder)!r}")
                assert str(folder) in cell["source"]
            cell.pop("id", None)
            cells.append(cell)
    nb["cells"] = cells
    nb["nbformat_minor"] = min(nb.get("nbformat_minor", 4), 4)  # no cell ids needed
    target.write_text(json.dumps(nb))
    return target


class _Outcomes:
    """A pytest plugin that records each cell's outcome (its call phase) in order."""

    def __init__(self) -> None:
        self.cells: list[str] = []
        self.failures: list[str] = []

    def pytest_runtest_logreport(self, report) -> None:
        if report.when == "call":
            self.cells.append(report.outcome.upper())
            if report.failed:
                self.failures.append(report.longreprtext)


def _nbval(notebook: Path) -> tuple[int, _Outcomes]:
    """nbval over ``notebook`` (a pytest session run in this process, with a kernel of its
    own); the exit status and each code cell's outcome (PASSED or FAILED), in order."""
    outcomes = _Outcomes()
    status = pytest.main(["--nbval", "--nbval-current-env", "-p", "no:cacheprovider", "-p",
                          "no:xdist", "-q", "-s", "--nbval-sanitize-with",
                          str(NOTEBOOKS / "sanitize.cfg"), "--rootdir", str(notebook.parent),
                          str(notebook)], plugins=[outcomes])
    return int(status), outcomes


def _flip_first_positive_row(sheet: Path) -> str:
    rows = list(csv.reader(sheet.open(encoding="utf-8", newline="")))
    header = rows[0]
    valence, code = header.index("valence"), header.index("code")
    for row in rows[1:]:
        if row[valence] == "positive" and row[code] not in ("hr_capacity",):
            row[valence] = "negative"
            with sheet.open("w", encoding="utf-8", newline="") as fh:
                csv.writer(fh, lineterminator="\n").writerows(rows)
            return row[0]
    raise AssertionError("no positive row to flip")


@pytest.mark.kit_data
def test_nbval_fails_when_one_coding_row_changes_and_passes_when_none_does(tmp_path):
    site = json.loads(SITE_NOTEBOOK.read_text())
    default_site = next("".join(c["source"]) for c in site["cells"]
                        if "parameters" in c.get("metadata", {}).get("tags", []))
    assert 'site = "' in default_site
    name = default_site.split('site = "', 1)[1].split('"', 1)[0]

    same = tmp_path / "same"
    shutil.copytree(ROOT / "data", same / "data")
    shutil.copytree(ROOT / "docs", same / "docs")  # memos live beside the data
    changed = tmp_path / "changed"
    shutil.copytree(ROOT / "data", changed / "data")
    shutil.copytree(ROOT / "docs", changed / "docs")
    flipped = _flip_first_positive_row(changed / "data" / "coding" / f"{name}.csv")
    # the notebook on the unchanged copy, then on the changed one, checked in one nbval run
    status, run = _nbval(_notebook_on(tmp_path / "site_case.ipynb", same / "data",
                                      changed / "data"))
    n_cells = sum(1 for c in site["cells"] if c["cell_type"] == "code")
    assert len(run.cells) == 2 * n_cells, run.failures
    assert run.cells[:n_cells] == ["PASSED"] * n_cells, run.failures
    assert "FAILED" in run.cells[n_cells:], f"nbval did not notice {flipped} turning negative"
    assert status != 0 and all("mismatch" in f.lower() for f in run.failures)


def small_notebook(path: Path, *sources: str) -> Path:
    """A notebook of code cells at ``path``, for the python3 kernel."""
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


def test_a_reused_kernel_runs_each_notebook_as_a_kernel_of_its_own_would(tmp_path):
    from analysis.notebooks import execute, run_jobs

    (tmp_path / "noisy.py").write_text("import warnings\n\n\ndef shout():\n"
                                       "    warnings.warn('shown once per kernel')\n")
    code = ("import noisy\nnoisy.shout()", "x = 1\nx")
    first = small_notebook(tmp_path / "first.ipynb", *code)
    second = small_notebook(tmp_path / "second.ipynb", "'x' in dir(), 'noisy' in dir()", *code,
                            "import os\nos.getcwd() == os.path.dirname(os.path.abspath('noisy.py'))")
    # printed in two flushes: one stream output all the same, whatever the kernel's timing
    third = small_notebook(tmp_path / "third.ipynb",
                           "import time\nprint('a', flush=True)\ntime.sleep(0.3)\nprint('b')")
    out = tmp_path / "out"
    assert run_jobs([("first", first, out / "first.ipynb", {}),
                     ("second", second, out / "second.ipynb", {}),
                     ("third", third, out / "third.ipynb", {})], workers=1) == 0
    streamed = json.loads((out / "third.ipynb").read_text())["cells"][0]["outputs"]
    assert [(o["output_type"], "".join(o["text"])) for o in streamed] == [("stream", "a\nb\n")]
    reused = json.loads((out / "second.ipynb").read_text())
    cells = reused["cells"]
    assert [c["execution_count"] for c in cells] == [1, 2, 3, 4]

    def shown(cell) -> str:
        output = cell["outputs"][0]
        return "".join(output.get("text") or output["data"]["text/plain"])

    assert shown(cells[0]) == "(False, False)"  # the first notebook's names are gone
    assert "UserWarning: shown once per kernel" in shown(cells[1])  # shown again
    assert shown(cells[3]) == "True"
    execute(second, tmp_path / "alone.ipynb", {})  # papermill, a kernel of its own
    assert (tmp_path / "alone.ipynb").read_text() == (out / "second.ipynb").read_text()


def test_a_failing_notebook_is_named_and_the_others_outputs_are_kept(tmp_path, capsys):
    from analysis.notebooks import run_jobs

    def notebook(name: str, source: str) -> Path:
        return small_notebook(tmp_path / f"{name}.ipynb", source)

    good, bad = notebook("good", "1 + 1"), notebook("bad", "raise ValueError('no such site')")
    out = tmp_path / "out"
    # one kernel: the notebook after the failing one still runs, in the same kernel
    status = run_jobs([("site bad", bad, out / "bad.ipynb", {}),
                       ("site good", good, out / "good.ipynb", {})], workers=1)
    err = capsys.readouterr().err
    assert status == 1
    assert "site bad: FAILED" in err and "1 notebook(s) failed: site bad" in err
    assert (out / "good.ipynb").exists() and not (out / "bad.ipynb").exists()
    assert [p.name for p in out.iterdir()] == ["good.ipynb"], "no temporary file left behind"


@pytest.mark.kit_data
def test_notebooks_for_an_unknown_site_is_refused_naming_the_known_ones():
    from analysis.notebooks import jobs_for
    from analysis.paths import Layout

    with pytest.raises(ValueError, match="unknown site.*atlantis.*manoi"):
        jobs_for(Layout(), ["atlantis"])


def _outputs(path: Path):
    """(cell index, mime type, text) of every output of a committed notebook."""
    for i, cell in enumerate(json.loads(path.read_text())["cells"]):
        for output in cell.get("outputs", []):
            for mime, value in output.get("data", {}).items():
                if mime.startswith("text/"):
                    yield i, mime, "".join(value) if isinstance(value, list) else value
            if "text" in output:
                yield i, "stream", "".join(output["text"])


@pytest.mark.kit_data
def test_no_notebook_output_shows_a_literal_backslash_n():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for i, mime, text in _outputs(path):
            assert "\\n" not in text, f"{path.name} cell {i} ({mime}) shows a literal \\n"


@pytest.mark.kit_data
def test_site_and_cross_site_tables_are_styled_without_index_and_show_whole_quotes():
    for name in ("site_case.ipynb", "cross_site.ipynb"):
        html = [t for _, mime, t in _outputs(NOTEBOOKS / name) if mime == "text/html"]
        tables = [t for t in html if "<table" in t]
        assert tables, name
        for table in tables:
            assert "row_heading" not in table, f"{name}: a table shows the pandas index"
            assert "text-align: left" in table
            assert "…" not in table, f"{name}: a cut quote"


@pytest.mark.kit_data
def test_the_small_n_conclusion_is_markdown_not_monospace_text():
    outputs = list(_outputs(NOTEBOOKS / "cross_site.ipynb"))
    assert any(mime == "text/markdown" and "Wilson 95% interval" in text
               for _, mime, text in outputs)
    assert not any(mime == "stream" and "Wilson" in text for _, mime, text in outputs)


@pytest.mark.kit_data
def test_an_unknown_site_shows_one_line_in_a_notebook_not_a_traceback():
    from analysis.views import ParameterError, open_corpus

    an = open_corpus()
    with pytest.raises(ParameterError) as info:
        an.check_site("atlantis")
    lines = info.value._render_traceback_()  # what IPython (and so papermill) prints
    assert len(lines) == 1 and "unknown site 'atlantis'" in lines[0] and "manoi" in lines[0]


def test_a_styled_table_never_wraps_an_id_and_wraps_other_text():
    import re

    from analysis import views

    html = views.styled(pd.DataFrame({"segment_id": ["musi_banyuasin-018"],
                                      "quote": ["a long quote"]}), uuid="t").to_html()
    rules = dict(re.findall(r"#T_t_row0_(col\d) \{([^}]*)\}", html))
    assert "white-space: nowrap" in rules["col0"] and "normal" not in rules["col0"]
    assert "white-space: normal" in rules["col1"]


@pytest.mark.kit_data
def test_the_segment_ids_of_a_site_profile_never_wrap():
    import re

    from analysis import views

    an = views.open_corpus("", "")
    html = views.profile_display(an, an.sites[0], "outcome").to_html()
    column = re.search(r'class="col_heading level0 (col\d+)" >Segment id<', html).group(1)
    rule = re.search(rf"#T_profile-outcome_row0_{column}\b[^{{]*\{{([^}}]*)\}}", html).group(1)
    assert "white-space: nowrap" in rule and "normal" not in rule, rule
