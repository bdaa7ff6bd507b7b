"""``make bench``: speed against the kernel floor, and scaling of the tables stage.

Prints each figure as it is measured and writes them to ``reports/benchmarks.md``.

* floor: one trivial notebook (``1 + 1``) executed by papermill with the kit's
  kernel, median of 3 runs: the cost of starting a kernel, below which no
  notebook run can go;
* ``make report`` after ``make clean``, ``make notebooks``, ``make tables``: wall
  time of each, and its ratio to the floor;
* peak resident memory of the tables stage (``python -m analysis tables``);
* scaling: synthetic corpora (:mod:`analysis.synthetic`) of N = 50, 500, 5000
  sites of 60 segments; the tables stage timed in-process after imports (best
  of 2 for N <= 500) and as a command, and the growth exponent fitted by OLS
  of log(time) on log(N) (statsmodels), with its 95% interval.

Figures are measurements of this machine at this moment; they are never asserted in tests.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from analysis.io import atomic_write_text
from analysis.paths import ROOT, Layout

PYTHON = sys.executable
SIZES = (50, 500, 5000)


STACK_CELL = "import pandas, seaborn, statsmodels.api\nimport analysis.views"


def floor_seconds(runs: int = 3, cell: str = "1 + 1") -> float:
    """Median wall time of a one-cell notebook through papermill (kernel start-up included).

    The kernels' start-up warnings on standard error are discarded while measuring.
    """
    import nbformat
    import papermill

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "trivial.ipynb"
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nbformat.write(nb, src)
        saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        times = []
        try:
            for _ in range(runs):
                began = time.perf_counter()
                papermill.execute_notebook(str(src), str(Path(tmp) / "out.ipynb"),
                                           kernel_name="python3", progress_bar=False)
                times.append(time.perf_counter() - began)
        finally:
            os.dup2(saved, 2)
            os.close(devnull)
            os.close(saved)
    return statistics.median(times)


def timed(command: list[str], cwd: Path = ROOT) -> float:
    began = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - began


def peak_memory_mb(command: list[str]) -> float:
    """Peak resident memory (MB) of ``command``, measured in a fresh child process."""
    probe = ("import resource, subprocess, sys; "
             "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, "
             "stderr=subprocess.DEVNULL); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([PYTHON, "-c", probe, *command], check=True, capture_output=True,
                         text=True, cwd=ROOT)
    return int(out.stdout.strip()) / 1024


def stage_seconds(data: Path, out: Path, repeats: int) -> float:
    """Best in-process time of the tables stage (validate, compute, write) on a corpus."""
    from analysis.tables import build_tables

    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        build_tables(Layout(data, out))
        best = min(best, time.perf_counter() - began)
    return best


def growth_exponent(sizes: list[int], seconds: list[float]) -> tuple[float, float, float]:
    """OLS slope of log(seconds) on log(size), with its 95% interval."""
    import numpy as np
    import statsmodels.api as sm

    x = sm.add_constant(np.log(np.asarray(sizes, dtype=float)))
    fit = sm.OLS(np.log(np.asarray(seconds)), x).fit()
    if len(sizes) < 3:
        return float(fit.params[1]), float("nan"), float("nan")
    low, high = fit.conf_int(0.05)[1]
    return float(fit.params[1]), float(low), float(high)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES),
                        help="synthetic corpus sizes in sites (default: 50 500 5000)")
    parser.add_argument("--skip-make", action="store_true",
                        help="only the floor and the scaling (no make targets)")
    args = parser.parse_args(argv)
    lines = ["# Benchmarks", "",
             f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"{platform.machine()}. Wall times in seconds.", ""]

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    floor = floor_seconds()
    stack = floor_seconds(cell=STACK_CELL)
    say("| measurement | seconds | ratio to floor |")
    say("|---|---:|---:|")
    say(f"| floor: trivial notebook (`1 + 1`) through papermill (median of 3) | {floor:.2f} | 1.0 |")
    say(f"| the same notebook importing pandas, seaborn, statsmodels and the kit | {stack:.2f} "
        f"| {stack / floor:.1f} |")
    if not args.skip_make:
        make = ["make", "--no-print-directory"]
        subprocess.run(make + ["clean"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        for target in ("report", "notebooks", "tables"):
            if target == "report":
                subprocess.run(make + ["clean"], cwd=ROOT, check=True,
                               stdout=subprocess.DEVNULL)
            seconds = timed(make + [target])
            label = "`make report` after `make clean`" if target == "report" else f"`make {target}`"
            say(f"| {label} | {seconds:.2f} | {seconds / floor:.1f} "
                f"({seconds / stack:.1f} x the importing notebook) |")
        memory = peak_memory_mb([PYTHON, "-m", "analysis", "tables", "--quiet"])
        say("")
        say(f"Peak resident memory of the tables stage (bundled data): {memory:.0f} MB")
    say("")
    say("## Scaling of the tables stage (synthetic corpora, 60 segments per site)")
    say("")
    say("| sites | segments | in-process s | command s | peak MB |")
    say("|---:|---:|---:|---:|---:|")
    from analysis.synthetic import generate

    sizes, stage = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            data = generate(Path(tmp) / f"n{n}", n)
            out = Path(tmp) / f"out{n}"
            seconds = stage_seconds(data, out, repeats=2 if n <= 500 else 1)
            command = [PYTHON, "-m", "analysis", "tables", "--quiet", "--data", str(data),
                       "--out", str(out)]
            wall = timed(command)
            memory = peak_memory_mb(command)
            sizes.append(n)
            stage.append(seconds)
            say(f"| {n} | {60 * n} | {seconds:.2f} | {wall:.2f} | {memory:.0f} |")
    if len(sizes) >= 2:
        slope, low, high = growth_exponent(sizes, stage)
        interval = (f" (95% interval {low:.2f} to {high:.2f})" if len(sizes) >= 3
                    else " (two sizes: no interval)")
        say("")
        say(f"Growth exponent (OLS of log time on log sites, in-process times): "
            f"{slope:.2f}{interval}.")
    atomic_write_text(ROOT / "reports" / "benchmarks.md", "\n".join(lines) + "\n")
    print(f"\nwrote {ROOT / 'reports' / 'benchmarks.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
