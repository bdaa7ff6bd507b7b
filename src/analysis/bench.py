"""``make bench``: the kit's speed against the kernel floor, measured side by side.

The floor F is one trivial notebook that imports pandas, seaborn and statsmodels, run
by the papermill command line, best of three: the least any notebook of the kit can
cost. Every figure is printed next to its target (a multiple of F, or megabytes) as
soon as it is measured, and all of them are written to ``reports/benchmarks.md``.

Quick (the default, about a minute and a half on 2 cores):

* the floor F;
* ``make report`` after ``make clean``, ``make notebooks``, ``make test``;
* ``python -m analysis tables`` on a synthetic corpus of 500 sites
  (:mod:`analysis.synthetic`), wall time and peak memory, first with the
  suggestions' evaluation computed (an empty cache) and then with it served from
  ``OUT/cache/`` (what every later run does while coding, lexicon and texts stay);
* the growth exponent of the tables stage: in-process times (imports done) on five
  corpus sizes, the slope of log(time) on log(sites) by OLS (statsmodels) with its
  95% interval, for cached and for computed evaluation.

``--full`` (``make bench FULL=1``) adds the 5000-site corpus (time and memory), five
larger sizes for the exponent, and a check that each notebook of ``make notebooks``
is identical to a papermill run of its own.

Figures are measurements of this machine at this moment (other load included); they
are never asserted in tests.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from analysis.io import atomic_write_text
from analysis.paths import ROOT, Layout

PYTHON = sys.executable
FLOOR_CELL = "import pandas, seaborn, statsmodels.api"
QUICK_SIZES = (25, 50, 100, 200, 400)
FULL_SIZES = (250, 500, 1000, 2000, 4000)
REFERENCE_FLOOR = 3.3
"""F on the 2-core reference machine (seconds), with the installed packages compiled to
bytecode (5.6 s when the targets were set); each step's expected cost is given in F, as
measured there (2026-12-02)."""


@dataclass
class Step:
    name: str
    expected_f: float  # expected cost in F on the reference machine


def plan(full: bool) -> list[Step]:
    steps = [Step("floor F: trivial notebook importing pandas, seaborn, statsmodels, "
                  "papermill command line, 3 runs", 3.2),
             Step("`make report` after `make clean`", 0.8),
             Step("`make notebooks`", 2.0),
             Step("`make test`", 12.0),
             Step("`tables`, 500 synthetic sites: evaluation computed, then cached", 2.1),
             Step(f"growth exponent: sites {', '.join(map(str, QUICK_SIZES))}", 2.5)]
    if full:
        steps += [Step("`tables`, 5000 synthetic sites: evaluation computed, then cached", 15),
                  Step(f"growth exponent: sites {', '.join(map(str, FULL_SIZES))}", 23),
                  Step("notebooks compared with papermill runs of their own", 4.5)]
    return steps


# --------------------------------------------------------------------------- measuring

def _papermill_command() -> list[str]:
    script = Path(PYTHON).parent / "papermill"
    return [str(script)] if script.exists() else [PYTHON, "-m", "papermill"]


def floor_seconds(runs: int = 3, cell: str = FLOOR_CELL) -> float:
    """Best wall time of a one-cell notebook run by the papermill command line (kernel
    start and the cell's imports included)."""
    import nbformat

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "trivial.ipynb"
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nbformat.write(nb, src)
        command = _papermill_command() + [str(src), str(Path(tmp) / "out.ipynb"),
                                          "-k", "python3", "--no-progress-bar"]
        return min(run(command).seconds for _ in range(runs))


@dataclass
class Run:
    seconds: float
    peak_mb: float


def run(command: list[str], cwd: Path = ROOT) -> Run:
    """Wall time and peak resident memory (MB, the largest process of the command's tree
    that has ended) of ``command``; output discarded, failure raised."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
             "stderr=subprocess.DEVNULL).returncode; "
             "print(time.perf_counter() - t, "
             "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r)")
    out = subprocess.run([PYTHON, "-c", probe, *command], check=True, capture_output=True,
                         text=True, cwd=cwd)
    seconds, maxrss, status = out.stdout.split()
    if status != "0":
        raise RuntimeError(f"{' '.join(command)} failed (exit {status})")
    return Run(float(seconds), int(maxrss) / 1024)


def stage_seconds(data: Path, out: Path) -> tuple[float, float]:
    """In-process times of the tables stage (validate, compute, write) on a corpus:
    first with an empty cache (evaluation computed), then with the evaluation cached."""
    from analysis.tables import build_tables

    layout = Layout(data, out)
    shutil.rmtree(layout.cache_dir, ignore_errors=True)
    times = []
    for _ in range(2):
        began = time.perf_counter()
        build_tables(layout)
        times.append(time.perf_counter() - began)
    return times[0], times[1]


def growth_exponent(sizes: list[int], seconds: list[float]) -> tuple[float, float, float]:
    """OLS slope of log(seconds) on log(size), with its 95% interval (NaN for < 3 sizes)."""
    import numpy as np
    import statsmodels.api as sm

    x = sm.add_constant(np.log(np.asarray(sizes, dtype=float)))
    fit = sm.OLS(np.log(np.asarray(seconds, dtype=float)), x).fit()
    if len(sizes) < 3:
        return float(fit.params[1]), float("nan"), float("nan")
    low, high = fit.conf_int(0.05)[1]
    return float(fit.params[1]), float(low), float(high)


@contextlib.contextmanager
def _stderr_discarded():
    """Standard error (file descriptor 2, which kernels inherit: their start-up warnings)
    sent to /dev/null for the block."""
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def notebooks_match_papermill(out: Path) -> tuple[int, int]:
    """(identical, compared): each notebook ``make notebooks`` wrote to ``out`` against a
    papermill run of its own."""
    from analysis.notebooks import execute, jobs_for

    same = 0
    jobs = jobs_for(Layout(Layout().data, out))
    with tempfile.TemporaryDirectory() as tmp, _stderr_discarded():
        for _, notebook, output, parameters in jobs:
            alone = Path(tmp) / output.name
            execute(Path(notebook), alone, parameters)
            same += alone.read_bytes() == output.read_bytes()
    return same, len(jobs)


# --------------------------------------------------------------------------- report

class Report:
    """Lines printed as measured and kept for reports/benchmarks.md."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.floor = float("nan")

    def say(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)

    def figure(self, what: str, seconds: float, target_f: float | None,
               memory: float | None = None, memory_target: float | None = None) -> None:
        """One row: what, seconds, ratio to F, target and verdict, peak memory."""
        ratio = seconds / self.floor
        target = ("" if target_f is None else
                  f"<= {target_f:g} F: {'met' if ratio <= target_f else 'MISSED'}")
        peak = ""
        if memory is not None:
            peak = f"{memory:.0f} MB"
            if memory_target is not None:
                peak += (f" (<= {memory_target:.0f} MB: "
                         f"{'met' if memory <= memory_target else 'MISSED'})")
        self.say(f"| {what} | {seconds:.2f} | {ratio:.2f} F | {target} | {peak} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true",
                        help="add 5000 sites, larger sizes and the papermill comparison")
    args = parser.parse_args(argv)
    steps = plan(args.full)
    expected = sum(s.expected_f for s in steps) * REFERENCE_FLOOR
    print(f"make bench{' FULL=1' if args.full else ''}: {len(steps)} steps, expected about "
          f"{expected:.0f} s on a quiet 2-core machine (longer under load):", flush=True)
    for step in steps:
        print(f"  - {step.name} (about {step.expected_f * REFERENCE_FLOOR:.0f} s)", flush=True)
    print(flush=True)
    began = time.perf_counter()
    report = Report()
    report.say("# Benchmarks")
    report.say()
    report.say(f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
               f"{platform.machine()}; load average at start "
               f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}. "
               f"`make bench{' FULL=1' if args.full else ''}`. Wall times in seconds; "
               "F is the floor measured in this run.")
    report.say()
    report.floor = floor_seconds()
    report.say("| measurement | seconds | ratio | target | peak memory |")
    report.say("|---|---:|---:|---|---|")
    report.figure("F: trivial notebook importing pandas, seaborn, statsmodels (papermill "
                  "command line, best of 3)", report.floor, None)
    make = ["make", "--no-print-directory"]
    subprocess.run(make + ["clean"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    report.figure("`make report` after `make clean`", run(make + ["report"]).seconds, 1.0)
    report.figure("`make notebooks` (5 notebooks)", run(make + ["notebooks"]).seconds, 2.0)
    report.figure("`make test` (environment ready)", run(make + ["test"]).seconds, 4.0)

    from analysis.synthetic import generate

    with tempfile.TemporaryDirectory() as tmp:
        big = [500] + ([5000] if args.full else [])
        for n in big:
            data = generate(Path(tmp) / f"n{n}", n)
            out = Path(tmp) / f"out{n}"
            command = [PYTHON, "-m", "analysis", "tables", "--quiet", "--data", str(data),
                       "--out", str(out)]
            cold, warm = run(command), run(command)
            shutil.rmtree(out)
            time_target = 1.0 if n == 500 else 5.0
            memory_target = 600.0 if n == 5000 else None
            report.figure(f"`tables`, {n} sites, evaluation computed (first run)",
                          cold.seconds, None, cold.peak_mb, memory_target)
            report.figure(f"`tables`, {n} sites, evaluation from the cache",
                          warm.seconds, time_target, warm.peak_mb, memory_target)
        sizes = list(QUICK_SIZES) + (list(FULL_SIZES) if args.full else [])
        sizes = sorted(set(sizes))
        # a first run on the smallest corpus imports what the stage needs, untimed
        stage_seconds(generate(Path(tmp) / "warmup", sizes[0]), Path(tmp) / "warmup-out")
        timings = []
        for n in sizes:
            data = generate(Path(tmp) / f"s{n}", n)
            timings.append(stage_seconds(data, Path(tmp) / f"so{n}"))
            shutil.rmtree(data)
            shutil.rmtree(Path(tmp) / f"so{n}")
    report.say()
    report.say("Tables stage in process (imports done), synthetic corpora of 60 segments a site:")
    report.say()
    report.say("| sites | evaluation computed, s | evaluation cached, s |")
    report.say("|---:|---:|---:|")
    for n, (cold, warm) in zip(sizes, timings):
        report.say(f"| {n} | {cold:.2f} | {warm:.2f} |")
    report.say()
    for label, column in (("evaluation cached", 1), ("evaluation computed", 0)):
        slope, low, high = growth_exponent(sizes, [t[column] for t in timings])
        verdict = "met" if slope <= 1.1 else "MISSED"
        report.say(f"Growth exponent, {label}, {len(sizes)} sizes: {slope:.2f} "
                   f"(95% interval {low:.2f} to {high:.2f}); target <= 1.1: {verdict}.")
    if args.full:
        same, compared = notebooks_match_papermill(Layout().out)
        report.say()
        report.say(f"Notebooks of `make notebooks` identical to a papermill run of their own: "
                   f"{same} of {compared}.")
    report.say()
    report.say(f"Benchmark took {time.perf_counter() - began:.0f} s.")
    atomic_write_text(ROOT / "reports" / "benchmarks.md", "\n".join(report.lines) + "\n")
    print(f"\nwrote {ROOT / 'reports' / 'benchmarks.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
