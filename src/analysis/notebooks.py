"""Execute the kit's notebooks with papermill.

``run_all`` executes ``notebooks/site_case.ipynb`` once per site of
``data/sites.csv`` and ``notebooks/cross_site.ipynb`` once, in parallel, into
``OUT/notebooks/``: one kernel per core, each kept for several notebooks and reset
to a fresh namespace before each (:class:`Kernel`), so that kernel start-up and
imports are paid once per core, not once per notebook. Each output is the notebook
papermill would write with a kernel of its own (the tests and ``make bench``
compare). Each output is written to a
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
import queue
import sys
import tempfile
import threading
import time
from pathlib import Path

from analysis.io import atomic_write_text
from analysis.paths import NOTEBOOKS, Layout

SITE_NOTEBOOK = NOTEBOOKS / "site_case.ipynb"
CROSS_NOTEBOOK = NOTEBOOKS / "cross_site.ipynb"
KERNEL = "python3"
VOLATILE_METADATA = ("papermill", "execution")
INJECTED = "injected-parameters"
"""Papermill's tag (and, in the kit's outputs, the id) of the cell it adds with the parameters."""


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
    """A notebook's JSON without papermill's timings and per-cell execution times, and with
    a fixed id for the parameters cell papermill injects (a random one otherwise): same
    inputs, same notebook."""
    nb = json.loads(text)
    for key in VOLATILE_METADATA:
        nb.get("metadata", {}).pop(key, None)
    for cell in nb["cells"]:
        for key in VOLATILE_METADATA:
            cell.get("metadata", {}).pop(key, None)
        if "id" in cell and INJECTED in cell.get("metadata", {}).get("tags", []):
            cell["id"] = INJECTED
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def execute(notebook: Path, output: Path, parameters: dict, kernel: "Kernel | None" = None) -> float:
    """Execute ``notebook`` with ``parameters`` into ``output`` atomically; seconds taken.

    Papermill writes into a scratch folder; the cleaned notebook then replaces
    ``output`` through :func:`analysis.io.atomic_write_text`, so a failed run leaves
    the previous output as it was. Without ``kernel``, papermill starts a kernel of its
    own in the notebook's folder; with one, the notebook runs in that kernel, in a fresh
    namespace (:meth:`Kernel.fresh`). Adjacent stream outputs of a cell are merged
    (``coalesce_streams``): how the kernel happened to flush a print does not change the
    notebook.
    """
    import papermill

    check_parameters(notebook, parameters)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        executed = Path(scratch) / output.name
        if kernel is None:
            papermill.execute_notebook(str(notebook), str(executed), parameters=parameters,
                                       kernel_name=KERNEL, progress_bar=False,
                                       cwd=str(notebook.parent), coalesce_streams=True)
        else:
            kernel.fresh(notebook.parent)
            try:
                papermill.execute_notebook(str(notebook.resolve()), str(executed),
                                           parameters=parameters, kernel_name=KERNEL,
                                           progress_bar=False, km=kernel.manager,
                                           coalesce_streams=True)
            finally:
                kernel.release_clients()
        atomic_write_text(output, without_volatile(executed.read_text(encoding="utf-8")))
    return time.perf_counter() - began


_KERNEL_SETUP = """\
import sys, types, warnings
_state = types.ModuleType("_kit_kernel_state")
_state.warning_filters = list(warnings.filters)
sys.modules["_kit_kernel_state"] = _state
del sys, types, warnings, _state
"""

_KERNEL_FRESH = """\
import os as _os, sys as _sys, warnings as _warnings
_os.chdir({cwd!r})
_warnings.resetwarnings()
_warnings.filters[:] = _sys.modules["_kit_kernel_state"].warning_filters
if "matplotlib.pyplot" in _sys.modules:
    _sys.modules["matplotlib.pyplot"].close("all")
get_ipython().reset(new_session=True)
"""


class Kernel:
    """One kernel that runs several notebooks, one after the other, each as papermill would
    run it in a kernel of its own.

    Starting a kernel and importing pandas, seaborn and statsmodels in it is most of
    the cost of a small notebook; a kernel kept for the next notebook pays it once.
    Before each notebook, :meth:`fresh` gives it what a new kernel has: an empty
    namespace and history (IPython's ``reset``; execution counts restart at 1), the
    notebook's folder as working directory, the warning filters of the kernel's start
    (so a warning shown by the previous notebook shows again) and no open figures.
    Modules stay imported: what a module does at import (``analysis.figures`` sets its
    rcParams) is done once, and each notebook imports the same modules. The kernel's own
    standard output and error (start-up messages) are discarded; cell outputs are not.
    """

    def __init__(self) -> None:
        import subprocess

        from jupyter_client import BlockingKernelClient
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        self.manager = AsyncKernelManager(kernel_name=KERNEL)
        run_sync(self.manager.start_kernel)(stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)
        self._clients: list = []
        client = self.manager.client
        self.manager.client = lambda **kw: self._clients.append(client(**kw)) or self._clients[-1]
        self._control = BlockingKernelClient()
        self._control.load_connection_info(self.manager.get_connection_info())
        self._control.start_channels(shell=True, iopub=False, stdin=False, hb=False,
                                     control=False)
        self._run(_KERNEL_SETUP)

    def _run(self, code: str) -> None:
        """Run ``code`` silently (no output, no history, no execution count); raise if it fails."""
        msg_id = self._control.execute(code, silent=True, store_history=False)
        while True:
            reply = self._control.get_shell_msg(timeout=STARTUP_TIMEOUT)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"kernel reset failed: {reply['content'].get('ename')}: "
                               f"{reply['content'].get('evalue')}")

    def fresh(self, cwd: Path) -> None:
        """An empty namespace, execution count 1, ``cwd`` as working directory."""
        self._run(_KERNEL_FRESH.format(cwd=str(Path(cwd).resolve())))

    def release_clients(self) -> None:
        """Close the channels papermill opened to this kernel for the last notebook."""
        for client in self._clients:
            client.stop_channels()
        self._clients.clear()

    def alive(self) -> bool:
        from jupyter_core.utils import run_sync
        return bool(run_sync(self.manager.is_alive)())

    def close(self) -> None:
        from jupyter_core.utils import run_sync
        self.release_clients()
        self._control.stop_channels()
        run_sync(self.manager.shutdown_kernel)(now=True)


STARTUP_TIMEOUT = 60
"""Seconds to wait for a kernel to start or to reset."""


def _worker(jobs: "queue.Queue", results: "queue.Queue") -> None:
    """Run jobs from ``jobs`` in one kernel of this thread until the queue is empty; a
    kernel that died is replaced before the next job."""
    kernel = None
    try:
        while True:
            try:
                label, notebook, output, parameters = jobs.get_nowait()
            except queue.Empty:
                return
            try:
                if kernel is None or not kernel.alive():
                    kernel = Kernel()
                seconds = execute(Path(notebook), Path(output), parameters, kernel)
                results.put((label, seconds, ""))
            except Exception as exc:  # reported to the caller, which names the notebook
                message = str(exc).strip().splitlines()
                results.put((label, 0.0, message[-1] if message else type(exc).__name__))
    finally:
        if kernel is not None:
            kernel.close()


def jobs_for(layout: Layout, sites: list[str] | None = None) -> list[tuple]:
    """(label, template, output, parameters) for every notebook run of ``run_all``: the
    cross-site notebook first (it takes about twice a site's), so that the kernels, which
    take the next job as each is free, end close together."""
    from analysis.sources import load_sites

    known = sorted(load_sites(layout)["site"])
    chosen = sites or known
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise ValueError(f"unknown site(s) {', '.join(unknown)} (sites in "
                         f"{layout.sites_csv}: {', '.join(known)})")
    common = {"data_dir": str(layout.data), "out_dir": str(layout.out)}
    jobs = [] if sites else [("cross-site", CROSS_NOTEBOOK,
                              layout.notebooks_dir / "cross_site.ipynb", dict(common))]
    return jobs + [(f"site {s}", SITE_NOTEBOOK, layout.notebooks_dir / f"{s}.ipynb",
                    {"site": s, **common}) for s in chosen]


def run_jobs(jobs: list[tuple], workers: int) -> int:
    """Run the jobs on ``workers`` kernels, each kept for several notebooks (:class:`Kernel`),
    printing progress; non-zero when any failed (named)."""
    failed = []
    began = time.perf_counter()
    print(f"executing {len(jobs)} notebooks in {workers} kernel(s), each reused with a fresh "
          "namespace", file=sys.stderr, flush=True)
    todo: queue.Queue = queue.Queue()
    for job in jobs:
        todo.put(job)
    results: queue.Queue = queue.Queue()
    threads = [threading.Thread(target=_worker, args=(todo, results), daemon=True)
               for _ in range(workers)]
    for thread in threads:
        thread.start()
    for done in range(1, len(jobs) + 1):
        label, seconds, error = results.get()
        if error:
            failed.append(label)
            print(f"[{done}/{len(jobs)}] {label}: FAILED: {error}", file=sys.stderr, flush=True)
        else:
            print(f"[{done}/{len(jobs)}] {label}: done in {seconds:.1f} s", file=sys.stderr,
                  flush=True)
    for thread in threads:
        thread.join()
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


def main(argv: list[str] | None = None) -> int:
    """``python -m analysis.notebooks refresh [--jobs N]``."""
    import argparse

    def positive(text: str) -> int:
        if not text.isdigit() or int(text) < 1:
            raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
        return int(text)

    parser = argparse.ArgumentParser(prog="python -m analysis.notebooks")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("refresh", help="re-execute the committed notebooks in place")
    command.add_argument("--jobs", type=positive, default=0,
                         help="kernels (default: one per core)")
    return refresh(parser.parse_args(argv).jobs)


if __name__ == "__main__":
    sys.exit(main())
