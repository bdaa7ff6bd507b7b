"""The command line: help, verdicts, one-line errors and exit codes."""

from __future__ import annotations

import subprocess
import sys

from analysis.paths import ROOT


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "analysis", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True)


def test_help_lists_the_commands():
    result = run("--help")
    assert result.returncode == 0
    for name in ("validate", "tables", "coverage", "notebooks", "report"):
        assert name in result.stdout


def test_every_command_takes_data_and_out():
    for name in ("validate", "tables", "coverage", "report"):
        result = run(name, "--help")
        assert "--data DIR" in result.stdout and "--out DIR" in result.stdout, name


def test_validate_on_a_valid_corpus_exits_zero_with_a_verdict_per_file(tiny):
    result = run("validate", "--data", tiny.data)
    assert result.returncode == 0, result.stderr
    assert "files valid" in result.stdout
    assert result.stdout.count(" ok") >= 7


def test_bad_input_gives_one_line_error_no_traceback_and_exit_1(tiny):
    tiny.sites_csv.write_text("site,name\nalpha,A\n", encoding="utf-8")
    result = run("tables", "--data", tiny.data, "--out", tiny.out)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0] and "sites.csv:1" in errors[0]


def test_validate_exits_nonzero_when_a_file_fails(tiny):
    (tiny.raw_dir / "alpha.txt").chmod(0o644)
    (tiny.raw_dir / "alpha.txt").write_text("changed", encoding="utf-8")
    result = run("validate", "--data", tiny.data)
    assert result.returncode == 1 and "checksum mismatch" in result.stdout
