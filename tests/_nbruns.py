"""Execute notebooks with papermill once per parameter set, shared by the tests of one session.

``execute(notebook, params)`` runs ``notebooks/<notebook>.ipynb`` with ``params`` (and an
``output_dir`` of its own) and returns the executed notebook, the run's effective parameters and
its results table, as the batch would collect them.  Identical requests in one pytest session
reuse the first run (``tests/test_notebook_truth.py`` and ``tests/test_explore_parity.py`` both
need the notebooks at their defaults); ``execute_many`` runs up to two notebooks at a time.

Kernels start as the batch starts them: on IPC transport (no TCP ports picked, released and
re-bound, which two kernels starting at once can collide on: "Kernel died before replying to
kernel_info"), with a retry when a kernel fails to start, and with the kernel's stderr in a
``kernel.log`` whose text a failure carries.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
_TMP = Path(tempfile.mkdtemp(prefix="followerlab-nbruns-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)


@dataclass(frozen=True)
class Executed:
    notebook: str
    nb: nbformat.NotebookNode
    parameters: dict          # effective parameters, as results.json records them
    results: pd.DataFrame     # configuration, metric, value, unit


def defaults(notebook: str) -> dict:
    """The notebook's parameter defaults (its ``parameters`` cell)."""
    from followerlab.scenarios import notebook_parameters

    return {spec.name: spec.default for spec in notebook_parameters(ROOT / "notebooks" / f"{notebook}.ipynb")}


def _key(notebook: str, params: dict) -> str:
    """The run's identity: the parameters that differ from the notebook's defaults."""
    base = defaults(notebook)
    return json.dumps({k: v for k, v in params.items() if k not in base or base[k] != v}, sort_keys=True)


@functools.lru_cache(maxsize=None)
def _execute(notebook: str, key: str) -> Executed:
    import papermill as pm

    from followerlab.batch import _LIVE_KERNELS, _ipc_kernel_manager_class, _release_kernel, with_kernel_retries

    params = json.loads(key)
    folder = Path(tempfile.mkdtemp(dir=_TMP))
    out_nb = folder / f"{notebook}.ipynb"
    log = folder / "kernel.log"

    def run():
        return pm.execute_notebook(str(ROOT / "notebooks" / f"{notebook}.ipynb"), str(out_nb),
                                   parameters={**params, "output_dir": str(folder / "out")}, kernel_name="python3",
                                   progress_bar=False, log_output=False,
                                   # the kernel's cwd, without papermill's process-wide chdir (two threads)
                                   resources={"metadata": {"path": str(ROOT / "notebooks")}},
                                   kernel_manager_class=_ipc_kernel_manager_class(log))
    try:
        with_kernel_retries(run, out_nb)
    except RuntimeError as exc:  # the kernel died: say what it printed
        stderr = log.read_text(errors="replace")[-4000:] if log.exists() else "(no kernel.log)"
        raise RuntimeError(f"{notebook} {key}: {exc}\nkernel stderr:\n{stderr}") from exc
    finally:  # this run's kernels (the other thread's are left alone): released as the batch does
        for km in [km for km in _LIVE_KERNELS if getattr(km, "_followerlab_log", None)
                   and km._followerlab_log.name == str(log)]:
            _release_kernel(km)
            _LIVE_KERNELS.remove(km)
    doc = json.loads((folder / "out" / "results.json").read_text())
    return Executed(notebook, nbformat.read(out_nb, as_version=4), doc["parameters"],
                    pd.read_csv(folder / "out" / "results.csv"))


@contextlib.contextmanager
def _kernel_backend():
    """Kernels started here draw figures as the batch's do (inline PNG outputs).

    The repository's conftest sets ``MPLBACKEND=Agg`` for the test process, and kernels inherit
    the environment: with Agg ``plt.show()`` would leave no figure in the executed notebook.
    """
    saved = os.environ.pop("MPLBACKEND", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["MPLBACKEND"] = saved


def execute(notebook: str, params: dict | None = None) -> Executed:
    """The executed notebook for ``params`` (run once per session)."""
    with _kernel_backend():
        return _execute(notebook, _key(notebook, params or {}))


def execute_many(jobs) -> list[Executed]:
    """``execute`` for each ``(notebook, params)``, two kernels at a time."""
    jobs = list(jobs)
    with _kernel_backend(), ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda job: _execute(job[0], _key(job[0], job[1] or {})), jobs))
