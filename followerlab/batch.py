"""The papermill batch runner: every scenario × notebook, gathered into one table and a report.

``followerlab batch data/scenarios --out reports`` (see :mod:`followerlab.cli`) calls
:func:`run_batch`, which

1. reads and validates the scenario files (:func:`followerlab.scenarios.load_scenarios`);
2. runs each notebook with papermill, passing the scenario's parameters and ``output_dir``,
   on a local process pool (``jobs``) or on a Dask distributed cluster (``scheduler``), each
   kernel on IPC transport (Unix sockets with unique paths, so parallel kernels cannot race for
   the same TCP port) and retried when it fails to start;
3. keeps a failed run's executed notebook and its error while the other runs finish;
4. skips a run whose inputs hash (notebook bytes and parameters) equals that of its last
   *successful* run, unless ``force`` (a change to the followerlab library itself needs ``force``);
5. gathers every run's ``results.csv`` into ``results.csv`` / ``results.parquet`` with
   scenario, notebook and parameter columns, and writes the HTML report
   (:func:`followerlab.report.write_report`).

Output layout (all under ``out``)::

    runs/<run_id>/notebook.ipynb   executed notebook (also when it failed)
    runs/<run_id>/notebook.html    rendered with nbconvert, code hidden by default
    runs/<run_id>/results.csv|json the notebook's own results (via results_io)
    runs/<run_id>/run.json         status, error, inputs hash, parameters, timings
    runs/<run_id>/kernel.log       the kernel process's stderr
    results.csv, results.parquet   the gathered table; runs.csv: one row per run
    index.html, figures/*.png      the report

Atomicity: a run executes in ``runs/<run_id>.partial/``; only when it has finished (either
way) is that folder swapped in for ``runs/<run_id>/``, and the gathered files are written to a
temporary file and renamed.  An interrupted batch leaves the previous complete outputs (or
a ``.partial`` folder, removed by the next batch), never a half-written result.

The exit status of the command is the number of failed runs, capped at 100.

>>> plan = plan_runs("tests/fixtures/scenarios/tiny.yaml", "/tmp/never-written")
>>> [t["run_id"] for t in plan][:2]
['strong--fx-refresh-lag', 'strong--fx-queue']
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
import uuid
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

from ._results import Result
from .results_io import RESULT_COLUMNS, atomic_write_text
from .scenarios import Run, load_scenarios

__all__ = ["BatchResult", "run_batch", "plan_runs", "run_one", "gather_results", "inputs_hash",
           "MAX_EXIT_STATUS"]

MAX_EXIT_STATUS = 100


def _skip_slow_optional_imports() -> None:
    """Keep jsonschema from importing ``rfc3987_syntax`` in batch processes.

    When that optional package is installed, ``import jsonschema`` (pulled in by nbformat,
    hence papermill and nbconvert) compiles ~40 lark grammars: measured 2.5 s of CPU per
    process on the project machine, against 0.3 s without.  nbformat's schema uses no IRI
    format, so the batch process and its pool workers mark the module absent before jsonschema
    is first imported (jsonschema treats an ImportError as "format not checked").
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


_skip_slow_optional_imports()
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_KERNEL_START_ATTEMPTS = 3


# ----------------------------------------------------------------------------- hashing


def inputs_hash(notebook: str | Path, parameters: dict, *, kernel_name: str = "python3", extra: str = "") -> str:
    """The content hash that decides whether a run must be redone.

    sha256 of the notebook file's bytes, the parameters (canonical JSON, sorted keys), the
    kernel name and ``extra``.  Equal hash and a successful last run → the run is skipped.
    The followerlab library's own code is deliberately *not* hashed (issue 6 asks for notebook
    + parameters; in a checkout many people edit, every commit would invalidate every run):
    after changing a model, run the batch with ``--force``.
    """
    h = hashlib.sha256()
    for part in (Path(notebook).read_bytes(), json.dumps(parameters, sort_keys=True, default=str).encode(),
                 kernel_name.encode(), extra.encode()):
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


# ----------------------------------------------------------------------------- one run


def _ipc_kernel_manager_class(stderr_path: str | os.PathLike | None = None):
    """An AsyncKernelManager on IPC transport with a unique socket path prefix per kernel.

    ``stderr_path``: where the kernel process's stderr goes (the run's ``kernel.log``), instead
    of the batch's terminal.
    """
    from jupyter_client.manager import AsyncKernelManager, KernelManager
    from traitlets import CaselessStrEnum, default

    class IPCKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        @default("ip")
        def _ip_default(self):  # default is the *relative* "kernel-ipc": parallel kernels would collide
            return os.path.join(tempfile.gettempdir(), f"followerlab-kernel-{uuid.uuid4().hex[:12]}")

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            if stderr_path is not None and "stderr" not in kw:
                self._followerlab_log = open(stderr_path, "ab")  # noqa: SIM115 (lives as long as the kernel)
                kw["stderr"] = self._followerlab_log
            return await KernelManager._async_launch_kernel(self, kernel_cmd, **kw)

    return IPCKernelManager


def _no_cell_ran(path: Path) -> bool:
    """True if the output notebook shows that no cell started (so the kernel never came up)."""
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:
        return True
    return all(c.get("metadata", {}).get("papermill", {}).get("status") in (None, "pending")
               for c in nb.cells if c.cell_type == "code")


def _is_start_failure(exc: BaseException, output: Path) -> bool:
    """A kernel start-up failure (retryable) as opposed to an error in a cell."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return False
    if type(exc).__name__ == "NoSuchKernel":
        return False  # a missing kernelspec will not appear on retry
    return _no_cell_ran(output)


def with_kernel_retries(execute, output: Path, attempts: int = _KERNEL_START_ATTEMPTS, delay_s: float = 0.5):
    """Call ``execute()``; retry (up to ``attempts`` calls) when the kernel failed to *start*.

    A failure counts as a start failure when no cell began executing (papermill marks each
    cell's status in the output notebook) and it is not a cell error.  Returns
    ``(value, attempts_used)``; re-raises the last exception otherwise.
    """
    for attempt in range(1, attempts + 1):
        try:
            return execute(), attempt
        except Exception as exc:
            if attempt == attempts or not _is_start_failure(exc, output):
                exc.followerlab_attempts = attempt  # type: ignore[attr-defined]
                raise
            logging.getLogger("followerlab.batch").warning(
                "kernel failed to start (%s: %s); retry %d of %d", type(exc).__name__, exc, attempt, attempts - 1)
            time.sleep(delay_s * attempt)
    raise AssertionError("unreachable")


def _error_info(exc: BaseException) -> dict:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        tb = "\n".join(_ANSI.sub("", line) for line in exc.traceback)
        return {"type": exc.ename, "message": _ANSI.sub("", str(exc.evalue)),
                "cell": exc.exec_count, "traceback": tb}
    return {"type": type(exc).__name__, "message": str(exc), "cell": None,
            "traceback": "".join(traceback.format_exception(exc))}


def _swap_in(staging: Path, final: Path) -> None:
    """Replace ``final`` by ``staging`` (folders): rename the old away, rename the new in."""
    old = final.with_name(final.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        os.replace(final, old)
    os.replace(staging, final)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def run_one(task: dict) -> dict:
    """Execute one planned run (a dict from :func:`plan_runs`); never raises for a notebook error.

    Runs papermill into ``<run_dir>.partial``, renders the HTML, writes ``run.json``, then swaps
    the folder in.  Returns the ``run.json`` record (``status`` is ``"ok"`` or ``"failed"``).
    This is the function the local pool and the Dask workers call.
    """
    import papermill as pm

    logging.getLogger("papermill").setLevel(logging.ERROR)  # papermill warns on lines it can't parse
    final = Path(task["run_dir"])
    staging = final.with_name(final.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    out_nb = staging / "notebook.ipynb"
    record = {k: task[k] for k in ("run_id", "scenario", "base_scenario", "label", "notebook", "notebook_path",
                                   "parameters", "effective", "hash", "source", "description", "grid_point")}
    t0 = time.perf_counter()
    params = {**task["parameters"], "output_dir": str(staging)}
    attempts = 0
    try:
        _, attempts = with_kernel_retries(lambda: pm.execute_notebook(
            task["notebook_path"], str(out_nb), parameters=params, kernel_name=task["kernel_name"],
            progress_bar=False,  # kernel cwd = the notebook's folder, without papermill's process-wide chdir
            resources={"metadata": {"path": str(Path(task["notebook_path"]).parent)}},
            start_timeout=task["start_timeout_s"], execution_timeout=task["timeout_s"],
            kernel_manager_class=_ipc_kernel_manager_class(staging / "kernel.log")), out_nb)
        status, error = "ok", None
        if not (staging / "results.csv").exists():
            status, error = "failed", {"type": "MissingResults", "cell": None, "traceback": "",
                                       "message": "the notebook finished but wrote no results.csv to output_dir"}
    except Exception as exc:  # the run failed: keep its notebook and error, the batch goes on
        status, error = "failed", _error_info(exc)
        attempts = getattr(exc, "followerlab_attempts", 1)
    record.update(status=status, error=error, kernel_attempts=attempts,
                  duration_s=round(time.perf_counter() - t0, 3),
                  finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    if out_nb.exists():
        try:
            from .report import render_notebook_html

            render_notebook_html(out_nb, staging / "notebook.html", title=f"{task['run_id']}")
        except Exception as exc:  # a rendering problem must not lose the run
            record["render_error"] = f"{type(exc).__name__}: {exc}"
    atomic_write_text(staging / "run.json", json.dumps(record, indent=2, default=str))
    _swap_in(staging, final)
    return record


# ----------------------------------------------------------------------------- planning


def _task(run: Run, out: Path, kernel_name: str, timeout_s: float, start_timeout_s: float) -> dict:
    return {
        "run_id": run.run_id, "scenario": run.scenario, "base_scenario": run.base_scenario,
        "notebook": run.notebook_name, "notebook_path": str(run.notebook), "source": str(run.source),
        "description": run.description, "grid_point": run.grid_point, "label": run.label,
        "parameters": run.parameters, "effective": run.effective,
        "hash": inputs_hash(run.notebook, run.parameters, kernel_name=kernel_name),
        "run_dir": str(out / "runs" / run.run_id), "kernel_name": kernel_name,
        "timeout_s": timeout_s, "start_timeout_s": start_timeout_s,
    }


def plan_runs(scenarios, out, *, notebooks=None, notebook_dir=None, kernel_name: str = "python3",
              timeout_s: float = 600.0, start_timeout_s: float = 60.0) -> list[dict]:
    """Validate the scenario files and return one task dict per run (nothing is executed)."""
    runs = load_scenarios(scenarios, notebook_dir=notebook_dir, notebooks=notebooks)
    return [_task(r, Path(out).resolve(), kernel_name, timeout_s, start_timeout_s) for r in runs]


def _previous(task: dict) -> dict | None:
    """The last run's record if it succeeded with the same inputs hash and its results exist."""
    run_dir = Path(task["run_dir"])
    try:
        rec = json.loads((run_dir / "run.json").read_text())
    except (OSError, ValueError):
        return None
    if rec.get("status") == "ok" and rec.get("hash") == task["hash"] and (run_dir / "results.csv").exists():
        return rec
    return None


# ----------------------------------------------------------------------------- gathering


def _param_column(values: list):
    """Parameter values as one parquet-friendly column: numbers, bools, else strings/JSON."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pd.array(values, dtype="boolean")
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pd.array([float(v) if v is not None else None for v in values], dtype="Float64")
    return [None if v is None else (v if isinstance(v, str) else json.dumps(v)) for v in values]


def gather_results(records: list[dict], out: str | Path) -> pd.DataFrame:
    """Read each successful run's ``results.csv`` and stack them with run columns.

    Columns: ``scenario, base_scenario, label, notebook, run_id, configuration, metric, value, unit``
    followed by one ``param_<name>`` column per parameter (the run's effective value; lists as
    JSON text).  Written atomically to ``out/results.csv`` and ``out/results.parquet``.
    """
    out = Path(out)
    frames, params = [], []
    for rec in records:
        if rec.get("status") not in ("ok", "skipped"):
            continue
        path = out / "runs" / rec["run_id"] / "results.csv"
        frame = pd.read_csv(path)
        missing = [c for c in RESULT_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"{path}: results are missing the columns {missing}")
        frame = frame[RESULT_COLUMNS].copy()
        frame.insert(0, "run_id", rec["run_id"])
        frame.insert(0, "notebook", rec["notebook"])
        frame.insert(0, "label", rec.get("label") or rec["scenario"])
        frame.insert(0, "base_scenario", rec["base_scenario"])
        frame.insert(0, "scenario", rec["scenario"])
        frames.append(frame)
        params.append([rec.get("effective", {})] * len(frame))
    base = ["scenario", "base_scenario", "label", "notebook", "run_id"] + RESULT_COLUMNS
    if not frames:
        table = pd.DataFrame(columns=base)
    else:
        table = pd.concat(frames, ignore_index=True)
        flat = [p for group in params for p in group]
        names = sorted({k for p in flat for k in p})
        for name in names:
            table[f"param_{name}"] = _param_column([p.get(name) for p in flat])
    table["value"] = pd.to_numeric(table["value"], errors="coerce")
    atomic_write_text(out / "results.csv", table.to_csv(index=False))
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".results.parquet.", suffix=".tmp")
    os.close(fd)
    try:
        table.to_parquet(tmp, index=False)
        os.replace(tmp, out / "results.parquet")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return table


def _runs_frame(records: list[dict]) -> pd.DataFrame:
    rows = []
    for r in records:
        err = r.get("error") or {}
        rows.append({"run_id": r["run_id"], "scenario": r["scenario"], "notebook": r["notebook"],
                     "status": r["status"], "duration_s": r.get("duration_s"),
                     "kernel_attempts": r.get("kernel_attempts"),
                     "error": f"{err.get('type')}: {err.get('message')}" if err else ""})
    return pd.DataFrame(rows, columns=["run_id", "scenario", "notebook", "status", "duration_s",
                                       "kernel_attempts", "error"])


# ----------------------------------------------------------------------------- the batch


@dataclass(frozen=True)
class BatchResult(Result):
    """What a batch did.

    Attributes
    ----------
    runs : pandas.DataFrame
        One row per run: ``run_id, scenario, notebook, status (ok|skipped|failed), duration_s,
        kernel_attempts, error``.
    table : pandas.DataFrame
        The gathered results (see :func:`gather_results`).
    n_ok, n_skipped, n_failed : int
        Runs executed successfully, skipped as unchanged, failed.
    elapsed_s : float
        Wall-clock time of the whole batch.
    out : str
        The output folder; ``index`` the report's ``index.html`` ('' if no report).
    """

    runs: pd.DataFrame
    table: pd.DataFrame
    n_ok: int
    n_skipped: int
    n_failed: int
    elapsed_s: float
    out: str
    index: str

    @property
    def exit_status(self) -> int:
        """The number of failed runs, capped at :data:`MAX_EXIT_STATUS` (100)."""
        return min(self.n_failed, MAX_EXIT_STATUS)

    def to_frame(self) -> pd.DataFrame:
        return self.runs


def _die_with_parent(parent_pid: int) -> None:
    """Pool worker initializer: exit when the batch process dies, even by SIGKILL (Linux).

    Without it a ``kill -9`` of the batch leaves its workers running the queued runs, then
    waiting for ever.  Their kernels exit with them (ipykernel watches its parent).
    """
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, int(signal.SIGTERM))  # 1 = PR_SET_PDEATHSIG
        if os.getppid() != parent_pid:  # the batch died before prctl took effect
            os._exit(1)


def _execute_local(tasks, jobs, on_done):
    if jobs == 1:
        for t in tasks:
            on_done(run_one(t))
        return
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=_die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(run_one, t): t for t in tasks}
        try:
            for fut in as_completed(futures):
                on_done(_result_or_failure(fut, futures[fut]))
        except BaseException:  # Ctrl-C: drop queued runs (leaving the pool would wait for all)
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _execute_dask(tasks, scheduler, on_done):
    from distributed import Client, as_completed as dask_as_completed

    try:
        client = Client(scheduler, set_as_default=False)
    except OSError as exc:  # a wrong address is a usage error, not a failed run (exit status 1)
        raise ValueError(f"--scheduler {scheduler}: cannot connect: {exc}") from exc
    with client:
        futures = client.map(run_one, tasks, pure=False, key=[f"followerlab-{t['run_id']}-{uuid.uuid4().hex[:8]}"
                                                              for t in tasks])
        index = {f.key: t for f, t in zip(futures, tasks)}
        for fut in dask_as_completed(futures, loop=client.loop):
            on_done(_result_or_failure(fut, index[fut.key]))


def _result_or_failure(fut, task) -> dict:
    """A future's record, or a failure record when the worker itself died."""
    try:
        return fut.result()
    except Exception as exc:
        rec = {k: task[k] for k in ("run_id", "scenario", "base_scenario", "label", "notebook", "notebook_path",
                                    "parameters", "effective", "hash")}
        rec.update(status="failed", error={"type": type(exc).__name__, "message": str(exc), "cell": None,
                                           "traceback": "".join(traceback.format_exception(exc))},
                   duration_s=None, kernel_attempts=None)
        run_dir = Path(task["run_dir"])
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run_dir / "run.json", json.dumps(rec, indent=2, default=str))
        return rec


COMPARISON_NOTEBOOK = "04-compare-configurations"


def _run_comparison(out: Path, notebook: Path, kernel_name: str, timeout_s: float, start_timeout_s: float) -> dict:
    """Run the comparison notebook on the gathered table into ``out/comparison/``."""
    task = {"run_id": "comparison", "scenario": "comparison", "base_scenario": "comparison", "label": "comparison",
            "notebook": notebook.stem, "notebook_path": str(notebook), "source": "", "grid_point": {},
            "description": "the comparison notebook on this batch's gathered table",
            "parameters": {"results_path": str(out / "results.parquet")}, "effective": {}, "hash": "",
            "run_dir": str(out / "comparison"), "kernel_name": kernel_name, "timeout_s": timeout_s,
            "start_timeout_s": start_timeout_s}
    return run_one(task)


def run_batch(scenarios, out, *, notebooks=None, notebook_dir=None, jobs: int = 1, scheduler: str | None = None,
              force: bool = False, progress: bool | None = None, report: bool = True, compare=None,
              kernel_name: str = "python3", timeout_s: float = 600.0, start_timeout_s: float = 60.0) -> BatchResult:
    """Run every scenario × notebook, gather the results and write the report.

    Parameters
    ----------
    scenarios : path or sequence of paths
        Scenario files or folders of them (see ``data/scenarios/README.md``).
    out : path
        Output folder (created).
    notebooks : sequence of str, optional
        Only run these notebooks (stems).
    notebook_dir : path, optional
        Where notebook stems resolve; default ``<repo>/notebooks``.
    jobs : int
        Parallel kernels on the local process pool (1 = in this process, one after another).
    scheduler : str, optional
        Address of a Dask distributed scheduler (``tcp://host:8786``); the runs go there
        instead of the local pool.  Workers must see the same file system paths.
    force : bool
        Re-run even runs whose inputs hash matches their last success.
    progress : bool or None
        tqdm progress bar on stderr; ``None`` = only when stderr is a terminal.
    report : bool
        Write ``index.html`` and figures (:mod:`followerlab.report`).
    compare : bool, path or None
        Also run the comparison notebook on the gathered table (into ``out/comparison/``, linked
        from the index).  ``None``: when ``report`` is set and
        ``notebooks/04-compare-configurations.ipynb`` exists; a path: that notebook.
    kernel_name : str
        Jupyter kernel for every notebook.
    timeout_s, start_timeout_s : float
        Per-cell execution timeout and kernel start timeout.

    Returns
    -------
    BatchResult

    Raises
    ------
    followerlab.scenarios.ScenarioError
        An invalid scenario file (before anything runs).
    ValueError
        ``jobs`` < 1.
    """
    from tqdm.auto import tqdm

    from ._validate import as_int_array

    jobs = int(as_int_array("jobs", jobs, minimum=1))
    t0 = time.perf_counter()
    out = Path(out).resolve()
    tasks = plan_runs(scenarios, out, notebooks=notebooks, notebook_dir=notebook_dir, kernel_name=kernel_name,
                      timeout_s=timeout_s, start_timeout_s=start_timeout_s)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    for stale in (out / "runs").glob("*.partial"):  # left by an interrupted batch
        shutil.rmtree(stale, ignore_errors=True)
    records: dict[str, dict] = {}
    todo = []
    for t in tasks:
        prev = None if force else _previous(t)
        if prev is not None:
            records[t["run_id"]] = {**prev, **{k: t[k] for k in ("label", "description", "source")},  # not hashed
                                    "status": "skipped", "duration_s": 0.0}
        else:
            todo.append(t)
    bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc="followerlab batch", unit="run",
               disable=(not progress) if progress is not None else None)

    def on_done(rec):
        records[rec["run_id"]] = rec
        if rec["status"] == "failed":
            bar.write(f"FAILED {rec['run_id']}: {(rec.get('error') or {}).get('type')}: "
                      f"{(rec.get('error') or {}).get('message')}")
        bar.update(1)

    try:
        if todo:
            if scheduler:
                _execute_dask(todo, scheduler, on_done)
            else:
                _execute_local(todo, jobs, on_done)
    finally:
        bar.close()
    ordered = [records[t["run_id"]] for t in tasks if t["run_id"] in records]
    runs = _runs_frame(ordered)
    table = gather_results(ordered, out)
    atomic_write_text(out / "runs.csv", runs.to_csv(index=False))
    index = ""
    comparison = None
    if compare is None:
        compare = report
    if compare and len(table):
        from .scenarios import default_notebook_dir

        nb = Path(compare) if not isinstance(compare, bool) else \
            Path(notebook_dir or default_notebook_dir()) / f"{COMPARISON_NOTEBOOK}.ipynb"
        if nb.is_file():
            comparison = _run_comparison(out, nb.resolve(), kernel_name, timeout_s, start_timeout_s)
        elif not isinstance(compare, bool):
            raise ValueError(f"compare: notebook not found: {nb}")
    if report:
        from .report import write_report

        index = str(write_report(out, ordered, table, comparison=comparison))
    status = runs["status"]
    return BatchResult(runs=runs, table=table, n_ok=int((status == "ok").sum()),
                       n_skipped=int((status == "skipped").sum()), n_failed=int((status == "failed").sum()),
                       elapsed_s=time.perf_counter() - t0, out=str(out), index=index)
