"""Execute the kit's notebooks with papermill.

``run_all`` executes ``notebooks/site_case.ipynb`` once per site of
``data/sites.csv`` and ``notebooks/cross_site.ipynb`` once, in parallel (one
kernel per core), into ``OUT/notebooks/``. Each output is written to a
temporary file and renamed, so a failing notebook leaves the other outputs (and
its own previous output) intact. Parameters are checked against the
notebook's ``parameters`` cell: an unknown parameter is an error.

``python -m analysis.notebooks refresh`` re-executes the committed notebooks in
``notebooks/`` in place with their default parameters: the stored outputs that
nbval compares against. Run it after a deliberate change of the data.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from analysis.io import atomic_write_text
from analysis.paths import NOTEBOOKS, Layout

SITE_NOTEBOOK = NOTEBOOKS / "site_case.ipynb"
CROSS_NOTEBOOK = NOTEBOOKS / "cross_site.ipynb"
KERNEL = "python3"
VOLATILE_METADATA = ("papermill", "execution")


def declared_parameters(notebook: Path) -> dict:
    """The parameters a notebook declares in its cell tagged ``parameters``."""
    import papermill

    return papermill.inspect_notebook(str(notebook))


def check_parameters(notebook: Path, parameters: dict) -> None:
    declared = declared_parameters(notebook)
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ValueError(f"{notebook.name}: unknown parameter(s) {', '.join(unknown)} "
                         f"(declared: {', '.join(sorted(declared))})")


def without_volatile(text: str) -> str:
    """A notebook's JSON without papermill's timings and per-cell execution times: same
    inputs, same notebook."""
    nb = json.loads(text)
    for key in VOLATILE_METADATA:
        nb.get("metadata", {}).pop(key, None)
    for cell in nb["cells"]:
        for key in VOLATILE_METADATA:
            cell.get("metadata", {}).pop(key, None)
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def execute(notebook: Path, output: Path, parameters: dict) -> float:
    """Execute ``notebook`` with ``parameters`` into ``output`` atomically; seconds taken.

    Papermill writes into a scratch folder; the cleaned notebook then replaces
    ``output`` through :func:`analysis.io.atomic_write_text`, so a failed run leaves
    the previous output as it was.
    """
    import papermill

    check_parameters(notebook, parameters)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        executed = Path(scratch) / output.name
        papermill.execute_notebook(str(notebook), str(executed), parameters=parameters,
                                   kernel_name=KERNEL, progress_bar=False,
                                   cwd=str(notebook.parent))
        atomic_write_text(output, without_volatile(executed.read_text(encoding="utf-8")))
    return time.perf_counter() - began


def _quiet_kernels() -> None:
    """Worker processes send their kernels' stderr (start-up warnings) to /dev/null;
    errors reach the parent through the job's result."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)


def _job(args: tuple) -> tuple[str, float, str]:
    label, notebook, output, parameters = args
    try:
        return label, execute(Path(notebook), Path(output), parameters), ""
    except Exception as exc:  # reported to the parent, which names the notebook
        message = str(exc).strip().splitlines()
        return label, 0.0, message[-1] if message else type(exc).__name__


def jobs_for(layout: Layout, sites: list[str] | None = None) -> list[tuple]:
    """(label, template, output, parameters) for every notebook run of ``run_all``."""
    from analysis.sources import load_sites

    known = sorted(load_sites(layout)["site"])
    chosen = sites or known
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise ValueError(f"unknown site(s) {', '.join(unknown)} (sites in "
                         f"{layout.sites_csv}: {', '.join(known)})")
    common = {"data_dir": str(layout.data), "out_dir": str(layout.out)}
    jobs = [(f"site {s}", SITE_NOTEBOOK, layout.notebooks_dir / f"{s}.ipynb",
             {"site": s, **common}) for s in chosen]
    if not sites:
        jobs.append(("cross-site", CROSS_NOTEBOOK, layout.notebooks_dir / "cross_site.ipynb",
                     dict(common)))
    return jobs


def run_jobs(jobs: list[tuple], workers: int) -> int:
    """Run the jobs in parallel, printing progress; non-zero when any failed (named)."""
    failed = []
    began = time.perf_counter()
    print(f"executing {len(jobs)} notebooks with {workers} parallel kernels", file=sys.stderr,
          flush=True)
    with ProcessPoolExecutor(max_workers=workers, initializer=_quiet_kernels) as pool:
        futures = [pool.submit(_job, job) for job in jobs]
        for done, future in enumerate(as_completed(futures), 1):
            label, seconds, error = future.result()
            if error:
                failed.append(label)
                print(f"[{done}/{len(jobs)}] {label}: FAILED: {error}", file=sys.stderr,
                      flush=True)
            else:
                print(f"[{done}/{len(jobs)}] {label}: done in {seconds:.1f} s", file=sys.stderr,
                      flush=True)
    total = time.perf_counter() - began
    if failed:
        print(f"error: {len(failed)} notebook(s) failed: {', '.join(failed)}; the others' "
              "outputs were written", file=sys.stderr)
        return 1
    print(f"{len(jobs)} notebooks executed in {total:.1f} s", file=sys.stderr)
    return 0


def run_all(layout: Layout, jobs: int = 0, sites: list[str] | None = None) -> int:
    """Execute every site notebook and the cross-site notebook into ``OUT/notebooks``."""
    work = jobs_for(layout, sites)
    return run_jobs(work, max(1, min(jobs or os.cpu_count() or 1, len(work))))


def refresh(workers: int = 0) -> int:
    """Re-execute the committed notebooks in ``notebooks/`` in place (default parameters)."""
    work = [(f"refresh {nb.name}", nb, nb, {}) for nb in sorted(NOTEBOOKS.glob("*.ipynb"))]
    return run_jobs(work, max(1, min(workers or os.cpu_count() or 1, len(work))))


if __name__ == "__main__":
    if sys.argv[1:] == ["refresh"]:
        sys.exit(refresh())
    print("usage: python -m analysis.notebooks refresh", file=sys.stderr)
    sys.exit(2)
