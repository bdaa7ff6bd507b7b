"""The command line: help, verdicts, one-line errors and exit codes.

Most tests call ``analysis.cli.main`` in this process (``run_cli``); one runs the real
entry point, ``python -m analysis``, in a subprocess, to prove that what a user sees
for a bad input is one line and no traceback there too."""

from __future__ import annotations

import subprocess
import sys

from analysis.paths import ROOT
from conftest import run_cli


def test_help_lists_the_commands(capsys):
    status, out, _ = run_cli(capsys, "--help")
    assert status == 0
    for name in ("validate", "tables", "coverage", "notebooks", "report"):
        assert name in out


def test_every_command_takes_data_and_out(capsys):
    for name in ("validate", "tables", "coverage", "report"):
        _, out, _ = run_cli(capsys, name, "--help")
        assert "--data DIR" in out and "--out DIR" in out, name


def test_validate_on_a_valid_corpus_exits_zero_with_a_verdict_per_file(tiny, capsys):
    status, out, err = run_cli(capsys, "validate", "--data", tiny.data)
    assert status == 0, err
    assert "files valid" in out
    assert out.count(" ok") >= 7


def test_bad_input_gives_one_line_error_no_traceback_and_exit_1(tiny):
    """The real command line, in a subprocess: the entry point adds nothing to main's
    one line (the in-process tests of bad input rely on it)."""
    tiny.sites_csv.write_text("site,name\nalpha,A\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "analysis", "tables", "--data",
                             str(tiny.data), "--out", str(tiny.out)], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0] and "sites.csv:1" in errors[0]
    assert not tiny.tables_dir.exists()


def test_bad_input_in_process_is_the_same_one_line_and_exit_1(tiny, capsys):
    tiny.sites_csv.write_text("site,name\nalpha,A\n", encoding="utf-8")
    status, _, err = run_cli(capsys, "tables", "--data", tiny.data, "--out", tiny.out)
    assert status == 1
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0] and "sites.csv:1" in errors[0]


def test_validate_exits_nonzero_when_a_file_fails(tiny, capsys):
    (tiny.raw_dir / "alpha.txt").chmod(0o644)
    (tiny.raw_dir / "alpha.txt").write_text("changed", encoding="utf-8")
    status, out, _ = run_cli(capsys, "validate", "--data", tiny.data)
    assert status == 1 and "checksum mismatch" in out
