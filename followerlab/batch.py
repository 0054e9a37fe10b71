"""The papermill batch runner: every scenario × notebook, gathered into one table and a report.

``followerlab batch data/scenarios --out reports`` (see :mod:`followerlab.cli`) calls
:func:`run_batch`, which

1. reads and validates the scenario files (:func:`followerlab.scenarios.plan_scenarios`),
   counts the runs (refusing more than ``max_runs`` unless confirmed) and plans them lazily;
2. takes the output folder's lock (:data:`LOCK_NAME`; another live batch →
   :class:`OutputLockedError`, a dead one's lock is taken over);
3. runs each notebook with papermill, passing the scenario's parameters and ``output_dir``,
   on a local process pool (``jobs``, at most ``jobs`` runs submitted at a time) or on a Dask
   distributed cluster (``scheduler``), each kernel on IPC transport (Unix sockets with unique
   paths, so parallel kernels cannot race for the same TCP port) and retried when it fails
   to start;
4. keeps a failed run's executed notebook and its error while the other runs finish;
5. skips a run whose skip key (notebook bytes, parameters, kernel, followerlab version and
   code hash, data files hash, files named by parameters) equals that of its last
   *successful* run and whose ``results.csv`` still matches the checksum in ``run.json``,
   unless ``force``; such runs are marked ``reused``;
6. gathers every run's ``results.csv`` into ``results.csv`` / ``results.parquet`` with
   scenario, notebook and parameter columns, and writes the HTML report
   (:func:`followerlab.report.write_report`).

Output layout (all under ``out``)::

    runs/<run_id>/notebook.ipynb   executed notebook (also when it failed)
    runs/<run_id>/notebook.html    rendered with nbconvert, code hidden by default
    runs/<run_id>/results.csv|json the notebook's own results (via results_io)
    runs/<run_id>/run.json         status, error, skip key, results checksum, parameters, timings
    runs/<run_id>/kernel.log       the kernel process's stderr
    results.csv, results.parquet   the gathered table; runs.csv: one row per run
    index.html, figures/*.png      the report
    .followerlab-batch.lock        while a batch runs: its pid, host, start time, command

Atomicity: a run executes in ``runs/<run_id>.partial/``; only when it has finished (either
way) is that folder swapped in for ``runs/<run_id>/``, and ``run.json`` and the gathered files
are written to a temporary file and renamed.  An interrupted batch, a full disk or a crash
leaves the previous complete outputs (or a ``.partial`` folder, removed by the next batch),
never a half-written result taken as done.

Ctrl-C (SIGINT, also to the whole process group as a terminal sends it): no run starts any
more, the kernels of runs in flight are killed and those runs discarded (their workers are
terminated if they do not wind down within 1.5 s; their staging folders are removed), the finished runs are gathered (the index
is written without figures, the comparison notebook skipped) and
:attr:`BatchResult.interrupted` is set (exit status 130).  A second Ctrl-C exits at once.
Kernels' socket and connection files are removed even when a kernel was killed.

Exit statuses of the command: the number of failed runs capped at 100
(:data:`MAX_EXIT_STATUS`); :data:`EXIT_USAGE` 101, :data:`EXIT_DISK_FULL` 102,
:data:`EXIT_OUTPUT_UNUSABLE` 103, :data:`EXIT_INTERRUPTED` 130 (table in :mod:`followerlab.cli`).

>>> plan = plan_runs("tests/fixtures/scenarios/tiny.yaml", "/tmp/never-written")
>>> [t["run_id"] for t in plan][:2]
['strong--fx-refresh-lag', 'strong--fx-queue']
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import math
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
import uuid
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing import get_context, resource_tracker
from multiprocessing import util as mp_util
from pathlib import Path

import pandas as pd

try:  # named semaphores (not on every platform)
    from _multiprocessing import sem_unlink as _sem_unlink
    from multiprocessing.synchronize import SemLock as _SemLock
except ImportError:  # pragma: no cover
    _sem_unlink = _SemLock = None

from ._results import Result
from .results_io import RESULT_COLUMNS, SENSITIVITY_COLUMNS, atomic_write_parquet, atomic_write_text
from .scenarios import Run, plan_scenarios

__all__ = ["BatchResult", "run_batch", "plan_runs", "run_one", "gather_results", "gather_sensitivity", "inputs_hash",
           "library_fingerprint", "data_fingerprint", "OutputLockedError", "OutputStorageError",
           "TooManyRunsError", "MAX_EXIT_STATUS", "EXIT_USAGE", "EXIT_DISK_FULL", "EXIT_OUTPUT_UNUSABLE",
           "EXIT_INTERRUPTED", "LOCK_NAME"]

#: Exit statuses of ``followerlab batch`` (also :attr:`BatchResult.exit_status`).
MAX_EXIT_STATUS = 100      # 1..100: that many runs failed (capped)
EXIT_USAGE = 101           # bad command line or scenario file, --out locked, too many runs refused
EXIT_DISK_FULL = 102       # the output file system is full (ENOSPC / EDQUOT)
EXIT_OUTPUT_UNUSABLE = 103 # --out is not a directory, not writable or on a read-only file system
EXIT_INTERRUPTED = 130     # Ctrl-C (SIGINT), as shells report 128 + 2

#: The lock file that makes one batch at a time the owner of an output folder.
LOCK_NAME = ".followerlab-batch.lock"


class OutputLockedError(ValueError):
    """Another batch (still running) owns the output folder; nothing was touched."""


class TooManyRunsError(ValueError):
    """More runs planned than ``max_runs`` and not confirmed; nothing ran."""


class OutputStorageError(OSError):
    """The output folder cannot take the results: disk full, read-only, not a directory.

    ``kind`` is ``"disk full"`` or ``"not writable"``; ``exit_status`` is
    :data:`EXIT_DISK_FULL` or :data:`EXIT_OUTPUT_UNUSABLE`.
    """

    def __init__(self, kind: str, path, detail: str):
        super().__init__(f"{kind}: {path}: {detail}")
        self.kind, self.path, self.detail = kind, str(path), detail

    @property
    def exit_status(self) -> int:
        return EXIT_DISK_FULL if self.kind == "disk full" else EXIT_OUTPUT_UNUSABLE

    def __reduce__(self):  # picklable across the process pool
        return (OutputStorageError, (self.kind, self.path, self.detail))


_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}
_UNWRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EEXIST}
_ERRNO_IN_TEXT = re.compile(r"\[Errno (\d+)\]")


def _storage_kind(exc: BaseException, *, cells: bool = True) -> str | None:
    """``"disk full"`` / ``"not writable"`` if ``exc`` (or its cause chain) is such an OSError.

    A cell error (papermill's PapermillExecutionError) counts only for disk full: a notebook
    failing to read some protected file is the notebook's failure, not the output folder's.
    """
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OutputStorageError):
            return exc.kind
        if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
            return "disk full"
        if isinstance(exc, OSError) and exc.errno in _UNWRITABLE and not cells:
            return "not writable"
        if cells and type(exc).__name__ == "PapermillExecutionError":
            m = _ERRNO_IN_TEXT.search(f"{getattr(exc, 'evalue', '')}")
            if m and int(m.group(1)) in _DISK_FULL:
                return "disk full"
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def _storage_error(exc: BaseException, path) -> OutputStorageError:
    kind = _storage_kind(exc, cells=True) or _storage_kind(exc, cells=False) or "not writable"
    if isinstance(exc, OutputStorageError):
        return exc
    detail = getattr(exc, "strerror", None) or getattr(exc, "evalue", None) or str(exc)
    return OutputStorageError(kind, getattr(exc, "filename", None) or path, str(detail))


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


@lru_cache(maxsize=256)
def _file_digest_cached(path: str, mtime_ns: int, size: int) -> bytes:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.digest()


def _file_digest(path) -> bytes:
    st = os.stat(path)
    return _file_digest_cached(str(Path(path).resolve()), st.st_mtime_ns, st.st_size)


def inputs_hash(notebook: str | Path, parameters: dict, *, kernel_name: str = "python3", extra: str = "") -> str:
    """The content hash that decides whether a run must be redone.

    sha256 of the notebook file's bytes, the parameters (canonical JSON, sorted keys), the
    kernel name and ``extra``.  Equal hash and a successful last run → the run is skipped.
    The batch passes as ``extra`` the followerlab version and a hash of the library's code
    (:func:`library_fingerprint`) and of the data files (:func:`data_fingerprint`, plus files
    a string parameter names), so an upgrade or an edited model reruns every run.
    """
    return _combine_hash(_file_digest(notebook), parameters, kernel_name, extra)


def _combine_hash(notebook_digest: bytes, parameters: dict, kernel_name: str, extra: str) -> str:
    h = hashlib.sha256()
    h.update(notebook_digest)
    for part in (json.dumps(parameters, sort_keys=True, default=str).encode(), kernel_name.encode(), extra.encode()):
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def _tree_digest(root: Path, pattern: str, skip=()) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob(pattern)):
        rel = path.relative_to(root)
        if not path.is_file() or "__pycache__" in rel.parts or (rel.parts and rel.parts[0] in skip):
            continue
        h.update(str(rel.as_posix()).encode() + b"\0" + _file_digest(path))
    return h.hexdigest()


def library_fingerprint() -> str:
    """``"<version>+<sha256[:16]>"``: followerlab's version and a hash of its code (``followerlab/**/*.py``).

    Part of every run's skip key: after an upgrade or a local edit of any model, no old result
    is reused.  File digests are cached by (mtime, size), so recomputing is cheap.
    """
    try:
        from importlib.metadata import version

        ver = version("followerlab")
    except Exception:  # not installed (a bare checkout on PYTHONPATH)
        ver = "unknown"
    return f"{ver}+{_tree_digest(Path(__file__).resolve().parent, '*.py')[:16]}"


def data_fingerprint() -> str:
    """A hash of the shipped data files runs may read (``data/**`` or ``$FOLLOWERLAB_DATA``,
    without ``scenarios/``, whose content reaches a run only as parameters)."""
    from ._data import repo_root

    base = Path(os.environ.get("FOLLOWERLAB_DATA", repo_root() / "data"))
    return _tree_digest(base, "*", skip=("scenarios",))[:16] if base.is_dir() else "none"


def _named_files_digest(parameters: dict, notebook: Path) -> str:
    """Hash of files that string parameters name (absolute, or relative to the notebook's folder)."""
    parts = []
    for key in sorted(parameters):
        values = parameters[key] if isinstance(parameters[key], list) else [parameters[key]]
        for v in values:
            if not isinstance(v, str) or not v or len(v) > 4096:
                continue
            path = Path(v) if os.path.isabs(v) else notebook.parent / v
            try:
                if path.is_file():
                    parts.append(f"{key}={_file_digest(path).hex()}")
            except OSError:
                continue
    return ",".join(parts)


# ----------------------------------------------------------------------------- one run

class _Flag:
    """A flag like :class:`threading.Event` without ``wait``, whose ``set`` takes no lock.

    Signal handlers set it.  A Python signal handler runs in the main thread between two
    bytecodes of whatever the main thread was doing, and another signal can run a second handler
    inside the first: ``Event.set`` takes the Event's (non-reentrant) lock, so a handler that
    interrupted an ``Event.set`` holding it waited for ever on itself.  Seen in pool workers:
    the second Ctrl-C and the batch's SIGTERM (then the parent-death SIGTERM) arrive together,
    ``_worker_stop`` blocked inside ``_worker_cancel``'s ``Event.set``, and the worker outlived
    the batch, holding its stderr open.
    """

    __slots__ = ("_value",)

    def __init__(self):
        self._value = False

    def set(self) -> None:
        self._value = True

    def clear(self) -> None:
        self._value = False

    def is_set(self) -> bool:
        return self._value


#: Set (in the batch process and in each pool worker) when the batch is being cancelled: no run
#: starts any more, and kernels that start are killed at once.  Set by signal handlers: no lock.
_CANCEL = _Flag()
#: Kernel managers of this process whose kernels are (or may be) running.
_LIVE_KERNELS: list = []
#: The staging folder of the run this process is executing (removed if the process is stopped).
_CURRENT_STAGING: list[str] = []


def _kill_kernel(km) -> None:
    """SIGKILL a kernel's process group (jupyter_client starts kernels in their own session)."""
    pid = getattr(getattr(km, "provisioner", None), "pid", None)
    if pid:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _remove_kernel_files(km) -> None:
    """Remove a kernel's IPC socket files (``<ip>-<port>``) and its connection file (os calls
    only: signal handlers call this)."""
    ip = getattr(km, "ip", "")
    if getattr(km, "transport", "") == "ipc" and ip and os.path.isabs(ip):
        folder, prefix = os.path.split(ip)
        try:
            names = os.listdir(folder)
        except OSError:
            names = []
        for name in names:
            if name.startswith(prefix + "-"):
                try:
                    os.unlink(os.path.join(folder, name))
                except OSError:
                    pass
    conn = getattr(km, "connection_file", "")
    if conn:
        try:
            os.remove(conn)
        except OSError:
            pass


def _release_kernel(km) -> None:
    """The end of a kernel of :func:`_ipc_kernel_manager_class`: killed if its process still
    runs, its socket and connection files removed, its ``kernel.log`` closed (also when the
    kernel died or was killed)."""
    if getattr(km, "provisioner", None) is not None and km.provisioner.process is not None \
            and km.provisioner.process.poll() is None:
        _kill_kernel(km)
    _remove_kernel_files(km)
    log = getattr(km, "_followerlab_log", None)
    if log is not None:
        log.close()


def _kill_kernels(*, remove_files: bool = False) -> None:
    """Kill every live kernel of this process (signal-handler safe: no locks, no allocation of note)."""
    for km in list(_LIVE_KERNELS):
        _kill_kernel(km)
        if remove_files:
            _remove_kernel_files(km)


def _ipc_kernel_manager_class(stderr_path: str | os.PathLike | None = None):
    """An AsyncKernelManager on IPC transport with a unique socket path prefix per kernel.

    ``stderr_path``: where the kernel process's stderr goes (the run's ``kernel.log``), instead
    of the batch's terminal.  Each launched kernel is registered in ``_LIVE_KERNELS`` so that
    Ctrl-C, a SIGTERM or the end of :func:`run_one` can kill it and remove its socket and
    connection files, also when the kernel died without jupyter_client's cleanup.
    """
    from jupyter_client.manager import AsyncKernelManager, KernelManager
    from traitlets import CaselessStrEnum, default

    class IPCKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        def __init__(self, **kw):
            super().__init__(**kw)
            _LIVE_KERNELS.append(self)  # from the start: its connection file is written before launch

        @default("ip")
        def _ip_default(self):  # default is the *relative* "kernel-ipc": parallel kernels would collide
            return os.path.join(tempfile.gettempdir(), f"followerlab-kernel-{uuid.uuid4().hex[:12]}")

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            if _CANCEL.is_set():
                raise _Cancelled("the batch is being cancelled")
            if stderr_path is not None and "stderr" not in kw:
                self._followerlab_log = open(stderr_path, "ab")  # noqa: SIM115 (lives as long as the kernel)
                kw["stderr"] = self._followerlab_log
            try:
                return await KernelManager._async_launch_kernel(self, kernel_cmd, **kw)
            finally:
                if _CANCEL.is_set():  # Ctrl-C arrived while the kernel was starting
                    _kill_kernel(self)

    return IPCKernelManager


class _Cancelled(Exception):
    """Raised inside a run when the batch is cancelled before its kernel started."""


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
    """A kernel start-up failure (retryable) as opposed to an error in a cell, a full disk or a cancel."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, (PapermillExecutionError, _Cancelled)) or _CANCEL.is_set():
        return False
    if type(exc).__name__ == "NoSuchKernel":
        return False  # a missing kernelspec will not appear on retry
    if _storage_kind(exc, cells=False) is not None:
        return False  # a full disk or an unwritable folder is not a kernel start-up problem
    return _no_cell_ran(output)


def with_kernel_retries(execute, output: Path, attempts: int = _KERNEL_START_ATTEMPTS, delay_s: float = 0.5):
    """Call ``execute()``; retry (up to ``attempts`` calls) when the kernel failed to *start*.

    A failure counts as a start failure when no cell began executing (papermill marks each
    cell's status in the output notebook), it is not a cell error, not a full disk or
    unwritable folder, and the batch is not being cancelled.  Returns
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


_RECORD_KEYS = ("run_id", "scenario", "base_scenario", "label", "notebook", "notebook_path", "parameters",
                "effective", "hash", "source", "description", "grid_point")


class _QuietWhenCancelled(logging.Filter):
    """Drop papermill/nbclient log records once the batch is cancelled ("Kernel died before
    replying", ...: we killed that kernel on purpose)."""

    def filter(self, record):
        return not _CANCEL.is_set()


_QUIET = _QuietWhenCancelled()


def _cancelled_record(task: dict, started: bool) -> dict:
    rec = {k: task.get(k) for k in _RECORD_KEYS}
    rec.update(status="cancelled", started=started, error=None, duration_s=None, kernel_attempts=None)
    return rec


def run_one(task: dict) -> dict:
    """Execute one planned run (a dict from :func:`plan_runs`); never raises for a notebook error.

    Runs papermill into ``<run_dir>.partial``, renders the HTML, writes ``run.json``
    (atomically, with the sha256 of ``results.csv``), then swaps the folder in.  Returns the
    ``run.json`` record (``status`` is ``"ok"`` or ``"failed"``); ``"cancelled"`` when the batch
    was cancelled before or during the run (nothing of it is kept).  Raises
    :class:`OutputStorageError` when the output folder is full or unwritable (the staging
    folder is removed: nothing half-written remains).  The kernel's socket and connection
    files are removed in every case, also when the kernel was killed.
    This is the function the local pool and the Dask workers call.
    """
    if _CANCEL.is_set():
        return _cancelled_record(task, started=False)
    import papermill as pm

    logging.getLogger("papermill").setLevel(logging.ERROR)  # papermill warns on lines it can't parse
    for name in ("papermill", "traitlets", "nbclient", "jupyter_client"):
        if _QUIET not in logging.getLogger(name).filters:
            logging.getLogger(name).addFilter(_QUIET)
    final = Path(task["run_dir"])
    staging = final.with_name(final.name + ".partial")
    record = {k: task[k] for k in _RECORD_KEYS}
    record["library"] = task.get("library")
    del _LIVE_KERNELS[:]
    _CURRENT_STAGING[:] = [str(staging)]
    try:
        try:
            if staging.exists():
                shutil.rmtree(staging)
            staging.mkdir(parents=True)
        except OSError as exc:
            raise _storage_error(exc, staging) from exc
        out_nb = staging / "notebook.ipynb"
        t0 = time.perf_counter()
        params = {**task["parameters"], "output_dir": str(staging)}
        sweep_run = bool(params.get("sweep"))
        if sweep_run and task.get("sweep_scheduler"):  # the sweep's chunks go to the cluster too
            params["sweep"] = json.dumps({**json.loads(params["sweep"]), "scheduler": task["sweep_scheduler"]})
        attempts = 0

        def execute():
            # a sweep run executes only the notebook's cells tagged 'sweep' (and 'parameters')
            source = str(_sweep_cells(task["notebook_path"], staging)) if sweep_run else task["notebook_path"]
            return pm.execute_notebook(
                source, str(out_nb), parameters=params, kernel_name=task["kernel_name"],
                progress_bar=False,  # kernel cwd = the notebook's folder, without papermill's process-wide chdir
                resources={"metadata": {"path": str(Path(task["notebook_path"]).parent)}},
                start_timeout=task["start_timeout_s"], execution_timeout=task["timeout_s"],
                kernel_manager_class=_ipc_kernel_manager_class(staging / "kernel.log"))
        try:
            _, attempts = with_kernel_retries(execute, out_nb)
            status, error = "ok", None
            if not (staging / "results.csv").exists():
                status, error = "failed", {"type": "MissingResults", "cell": None, "traceback": "",
                                           "message": "the notebook finished but wrote no results.csv to output_dir"}
        except Exception as exc:  # the run failed: keep its notebook and error, the batch goes on
            if _CANCEL.is_set():  # killed by Ctrl-C: not a failure of the notebook, and not kept
                shutil.rmtree(staging, ignore_errors=True)
                return _cancelled_record(task, started=True)
            if _storage_kind(exc, cells=True) == "disk full":  # also a cell's "[Errno 28]" writing results
                raise _storage_error(exc, staging) from exc
            # (an unwritable staging folder shows when run.json is written, below)
            status, error = "failed", _error_info(exc)
            attempts = getattr(exc, "followerlab_attempts", 1)
        (staging / ".sweep-input.ipynb").unlink(missing_ok=True)
        record.update(status=status, error=error, kernel_attempts=attempts,
                      duration_s=round(time.perf_counter() - t0, 3),
                      finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        try:
            if status == "ok":
                record["results_sha256"] = _file_digest(staging / "results.csv").hex()
            if out_nb.exists():
                try:
                    from .report import render_notebook_html

                    render_notebook_html(out_nb, staging / "notebook.html", title=f"{task['run_id']}")
                except Exception as exc:  # a rendering problem must not lose the run
                    if _storage_kind(exc, cells=False) == "disk full":
                        raise
                    record["render_error"] = f"{type(exc).__name__}: {exc}"
            atomic_write_text(staging / "run.json", json.dumps(record, indent=2, default=str))
            _swap_in(staging, final)
        except OSError as exc:
            if _storage_kind(exc, cells=False) is None:
                raise  # another I/O problem: the pool reports the run as failed
            raise _storage_error(exc, staging) from exc
        return record
    except OutputStorageError:
        shutil.rmtree(staging, ignore_errors=True)  # nothing half-written stays behind
        raise
    finally:
        for km in _LIVE_KERNELS:  # also when the kernel died or was killed: no sockets left in /tmp
            _release_kernel(km)
        del _LIVE_KERNELS[:]
        del _CURRENT_STAGING[:]


def _sweep_cells(notebook_path: str, staging: Path) -> Path:
    """The notebook with only its cells tagged ``sweep`` or ``parameters`` (what a sweep run executes),
    written into the staging folder."""
    import nbformat

    nb = nbformat.read(notebook_path, as_version=4)
    keep = [c for c in nb.cells if {"sweep", "parameters"} & set(c.metadata.get("tags", []))]
    if not any("sweep" in c.metadata.get("tags", []) for c in keep):
        raise ValueError(f"{notebook_path}: no cell tagged 'sweep': this notebook cannot run a sweep")
    nb.cells = keep
    path = staging / ".sweep-input.ipynb"
    nbformat.write(nb, str(path))
    return path


# ----------------------------------------------------------------------------- planning


def _task(run: Run, out: Path, kernel_name: str, timeout_s: float, start_timeout_s: float,
          fingerprint: str = "", digests: dict | None = None) -> dict:
    named = _named_files_digest(run.parameters, run.notebook)
    digests = {} if digests is None else digests  # notebook path -> digest, once per plan
    if run.notebook not in digests:
        digests[run.notebook] = _file_digest(run.notebook)
    run_id = run.run_id
    return {
        "run_id": run_id, "scenario": run.scenario, "base_scenario": run.base_scenario,
        "notebook": run.notebook.stem, "notebook_path": str(run.notebook), "source": str(run.source),
        "description": run.description, "grid_point": run.grid_point, "label": run.label,
        "parameters": run.parameters, "effective": run.effective,
        "hash": _combine_hash(digests[run.notebook], run.parameters, kernel_name,
                              f"{fingerprint}|{named}" if fingerprint or named else ""),
        "library": fingerprint,
        "run_dir": os.path.join(out, "runs", run_id), "kernel_name": kernel_name,
        "timeout_s": timeout_s, "start_timeout_s": start_timeout_s,
    }


def _check_timeout(name: str, value) -> float:
    """A timeout must be a positive finite number of seconds (0, negative, NaN, inf refused)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number of seconds; got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive finite number of seconds; got {value!r}")
    return v


class _TaskPlan:
    """The planned tasks, counted at once and built lazily (see :class:`followerlab.scenarios.ScenarioPlan`)."""

    def __init__(self, plan, out: Path, kernel_name: str, timeout_s: float, start_timeout_s: float):
        self._plan, self._args = plan, (out, kernel_name, timeout_s, start_timeout_s,
                                        f"{library_fingerprint()}|data={data_fingerprint()}")

    def __len__(self) -> int:
        return len(self._plan)

    def __iter__(self):
        digests: dict = {}
        for run in self._plan:
            yield _task(run, *self._args, digests=digests)


def _plan(scenarios, out, *, notebooks=None, notebook_dir=None, kernel_name: str = "python3",
          timeout_s: float = 600.0, start_timeout_s: float = 60.0) -> _TaskPlan:
    timeout_s = _check_timeout("timeout_s", timeout_s)
    start_timeout_s = _check_timeout("start_timeout_s", start_timeout_s)
    plan = plan_scenarios(scenarios, notebook_dir=notebook_dir, notebooks=notebooks)
    return _TaskPlan(plan, Path(out).resolve(), kernel_name, timeout_s, start_timeout_s)


def plan_runs(scenarios, out, *, notebooks=None, notebook_dir=None, kernel_name: str = "python3",
              timeout_s: float = 600.0, start_timeout_s: float = 60.0) -> list[dict]:
    """Validate the scenario files and return one task dict per run (nothing is executed).

    Each task's ``hash`` (the skip key) covers the notebook, the parameters, the kernel, the
    followerlab version and code (:func:`library_fingerprint`), the data files
    (:func:`data_fingerprint`) and files named by string parameters.
    """
    return list(_plan(scenarios, out, notebooks=notebooks, notebook_dir=notebook_dir, kernel_name=kernel_name,
                      timeout_s=timeout_s, start_timeout_s=start_timeout_s))


def _previous(task: dict) -> dict | None:
    """The last run's record if it succeeded with the same inputs hash and its results are intact.

    Intact: ``results.csv`` exists and has the sha256 recorded in ``run.json`` (written
    atomically after the run), so a half-written or edited result is never reused.
    """
    run_dir = task["run_dir"]
    try:
        with open(os.path.join(run_dir, "run.json"), encoding="utf-8") as fh:
            rec = json.load(fh)
        if not (isinstance(rec, dict) and rec.get("status") == "ok" and rec.get("hash") == task["hash"]
                and rec.get("results_sha256")):
            return None
        if _file_digest(os.path.join(run_dir, "results.csv")).hex() != rec["results_sha256"]:
            return None
    except (OSError, ValueError):
        return None
    return rec


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
    _gather_sweeps(records, out)
    atomic_write_parquet(out / "results.parquet", table)
    return table


def gather_sensitivity(records: list[dict], out: str | Path) -> pd.DataFrame:
    """Stack the ``sensitivity.csv`` of every successful run that wrote one into ``out/sensitivity.csv``.

    A notebook's "Which assumption matters?" section writes its Sobol' table there through
    :func:`followerlab.results_io.write_sensitivity`.  Columns: ``scenario, base_scenario,
    label, notebook, run_id`` and :data:`followerlab.results_io.SENSITIVITY_COLUMNS` (the
    ``figure`` made relative to ``out``).  Runs without the file add nothing; the gathered file
    is rewritten on every batch (empty, with its header, when no run wrote one).
    """
    out = Path(out)
    frames = []
    for rec in records:
        if rec.get("status") not in ("ok", "skipped"):
            continue
        path = out / "runs" / rec["run_id"] / "sensitivity.csv"
        if not path.is_file():
            continue
        frame = pd.read_csv(path, keep_default_na=False, na_values=["", "nan", "NaN"])
        missing = [c for c in SENSITIVITY_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"{path}: sensitivity table is missing the columns {missing}")
        frame = frame[SENSITIVITY_COLUMNS].copy()
        frame["scope"] = frame["scope"].fillna("").astype(str)
        frame["figure"] = [f"runs/{rec['run_id']}/{f}" if isinstance(f, str) and f else ""
                           for f in frame["figure"]]
        for col, value in (("run_id", rec["run_id"]), ("notebook", rec["notebook"]),
                           ("label", rec.get("label") or rec["scenario"]),
                           ("base_scenario", rec.get("base_scenario", rec["scenario"])), ("scenario", rec["scenario"])):
            frame.insert(0, col, value)
        frames.append(frame)
    base = ["scenario", "base_scenario", "label", "notebook", "run_id"] + SENSITIVITY_COLUMNS
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=base)
    atomic_write_text(out / "sensitivity.csv", table.to_csv(index=False))
    return table


def _gather_sweeps(records: list[dict], out: Path) -> Path | None:
    """Stack the sweep runs' ``results.parquet`` (one row per configuration) into ``out/sweeps.parquet``.

    Columns: ``scenario, notebook, run_id``, then each run's axes, metrics and ``on_front``
    (missing where a run has no such column).  Removed when no run of the batch is a sweep.
    """
    frames = []
    for rec in records:
        path = out / "runs" / rec["run_id"] / "results.parquet"
        if rec.get("status") in ("ok", "skipped") and (rec.get("parameters") or {}).get("sweep") and path.exists():
            frame = pd.read_parquet(path)
            frame.insert(0, "run_id", rec["run_id"])
            frame.insert(0, "notebook", rec["notebook"])
            frame.insert(0, "scenario", rec["scenario"])
            frames.append(frame)
    target = out / "sweeps.parquet"
    if not frames:
        target.unlink(missing_ok=True)
        return None
    table = pd.concat(frames, ignore_index=True)
    atomic_write_parquet(target, table)
    return target


def _runs_frame(records: list[dict]) -> pd.DataFrame:
    rows = []
    for r in records:
        err = r.get("error") or {}
        rows.append({"run_id": r["run_id"], "scenario": r["scenario"], "notebook": r["notebook"],
                     "status": r["status"], "duration_s": r.get("duration_s"),
                     "kernel_attempts": r.get("kernel_attempts"),
                     "error": f"{err.get('type')}: {err.get('message')}" if err else "",
                     "reused": bool(r.get("reused"))})
    return pd.DataFrame(rows, columns=["run_id", "scenario", "notebook", "status", "duration_s",
                                       "kernel_attempts", "error", "reused"])


# ----------------------------------------------------------------------------- the batch


@dataclass(frozen=True)
class BatchResult(Result):
    """What a batch did.

    Attributes
    ----------
    runs : pandas.DataFrame
        One row per run that finished or was reused: ``run_id, scenario, notebook, status
        (ok|skipped|failed), duration_s, kernel_attempts, error, reused``.
    table : pandas.DataFrame
        The gathered results (see :func:`gather_results`).
    n_ok, n_skipped, n_failed : int
        Runs executed successfully, skipped as unchanged (results reused), failed.
    elapsed_s : float
        Wall-clock time of the whole batch.
    out : str
        The output folder; ``index`` the report's ``index.html`` ('' if no report).
    n_planned : int
        Runs the scenario files plan (after ``notebooks``).
    interrupted : bool
        The batch was cancelled (Ctrl-C): runs not finished were dropped, ``n_planned -
        len(runs)`` of them.
    """

    runs: pd.DataFrame
    table: pd.DataFrame
    n_ok: int
    n_skipped: int
    n_failed: int
    elapsed_s: float
    out: str
    index: str
    n_planned: int = 0
    interrupted: bool = False

    @property
    def exit_status(self) -> int:
        """:data:`EXIT_INTERRUPTED` (130) if interrupted, else the number of failed runs capped at 100."""
        if self.interrupted:
            return EXIT_INTERRUPTED
        return min(self.n_failed, MAX_EXIT_STATUS)

    def to_frame(self) -> pd.DataFrame:
        return self.runs


_HAS_SIGMASK = hasattr(signal, "pthread_sigmask")  # not on Windows

# The signal handlers below (and _Interrupts._handle) take no lock and never wait: they run in the
# main thread between two bytecodes of whatever it was doing (maybe holding a lock), and one can
# run inside another (the second Ctrl-C, the batch's SIGTERM and the parent-death SIGTERM come
# within microseconds).


def _worker_cancel(signum, frame) -> None:
    """SIGINT in a pool worker (the terminal's Ctrl-C, or forwarded by the batch): start nothing
    more, kill this worker's kernel; the interrupted run returns a "cancelled" record."""
    _CANCEL.set()
    _kill_kernels()


def _worker_stop(signum, frame) -> None:
    """SIGTERM in a pool worker (the batch abandons it, or the batch died: parent-death signal):
    kill the kernel, remove its sockets, connection file and the run's staging folder, exit."""
    if _HAS_SIGMASK:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})  # exiting: no more handlers
    _CANCEL.set()
    _kill_kernels(remove_files=True)
    for path in list(_CURRENT_STAGING):
        shutil.rmtree(path, ignore_errors=True)
    os._exit(128 + signum)


def _init_worker(parent_pid: int) -> None:
    """Pool worker initializer: Ctrl-C / SIGTERM handlers, :func:`_die_with_parent`, then SIGINT
    unblocked (the worker was started with it blocked, see :func:`_submit_shielded`: a Ctrl-C
    that came while it started is handled now)."""
    signal.signal(signal.SIGINT, _worker_cancel)
    signal.signal(signal.SIGTERM, _worker_stop)
    _die_with_parent(parent_pid)
    if _HAS_SIGMASK:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _die_with_parent(parent_pid: int) -> None:
    """Pool worker initializer: exit when the batch process dies, even by SIGKILL (Linux).

    Without it a ``kill -9`` of the batch leaves its workers running the queued runs, then
    waiting for ever.  The parent-death signal is SIGTERM, whose handler kills the worker's
    kernel and removes its files.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, int(signal.SIGTERM))  # 1 = PR_SET_PDEATHSIG
        if os.getppid() != parent_pid:  # the batch died before prctl took effect
            os._exit(1)


def _signal_pids(pids, sig) -> None:
    """Send ``sig`` to every process of ``pids``, skipping those already gone (os calls only:
    signal handlers call this)."""
    for pid in list(pids):
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _pool_pids(pool) -> list[int]:
    """The process ids of a ``ProcessPoolExecutor``'s workers (none once it is shut down)."""
    return list(getattr(pool, "_processes", None) or {})


class _Interrupts:
    """SIGINT handling in the batch process while a batch runs (main thread only).

    First Ctrl-C: no run starts any more; kernels of runs in flight are killed (this
    process's, and the pool workers' via a forwarded SIGINT); the batch then gathers what
    finished.  Second Ctrl-C: workers are terminated (they clean up their kernels) and the
    process exits at once with :data:`EXIT_INTERRUPTED`.
    """

    def __init__(self):
        self.count = 0
        self.workers = lambda: []
        self._old = None

    def __enter__(self):
        _CANCEL.clear()
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        _CANCEL.clear()

    @property
    def cancelled(self) -> bool:
        return self.count > 0 or _CANCEL.is_set()

    def _signal_workers(self, sig) -> None:
        _signal_pids(self.workers(), sig)

    def _handle(self, signum, frame) -> None:
        self.count += 1
        if self.count == 1:
            _CANCEL.set()
            _kill_kernels()  # --jobs 1: the kernel of the run in this process
            self._signal_workers(signal.SIGINT)
            return
        if self.count > 2:  # a third Ctrl-C inside the second one's handler: that one is stopping
            return
        workers = list(self.workers())
        self._signal_workers(signal.SIGTERM)
        _kill_kernels(remove_files=True)
        for path in list(_CURRENT_STAGING):
            shutil.rmtree(path, ignore_errors=True)
        _release_semaphores()
        _reap(workers, _REAP_WORKERS_S)
        os.write(2, b"followerlab: interrupted again: stopped at once; unfinished runs discarded\n")
        os._exit(EXIT_INTERRUPTED)


#: After a second Ctrl-C, how long terminated workers get to clean up and exit before SIGKILL.
_REAP_WORKERS_S = 1.0


def _reap(pids, timeout_s: float) -> None:
    """Wait up to ``timeout_s`` for child processes ``pids`` (just sent SIGTERM) to exit
    (``waitpid``, no lock), then SIGKILL the ones left: none outlives the batch (one would hold
    its stdout/stderr open).  SIGTERM is sent again every 0.1 s meanwhile: if the group's SIGINT
    was still pending on a worker's main thread, the kernel gave the SIGTERM to another thread
    (OpenBLAS's), and CPython 3.9-3.11 then runs the Python handler only when the main thread
    next checks for signals (bpo-40010), e.g. when a signal interrupts it."""
    left = set(pids)
    deadline = time.monotonic() + timeout_s
    nudge = time.monotonic() + 0.1
    while left:
        for pid in list(left):
            try:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    left.discard(pid)
            except ChildProcessError:
                left.discard(pid)
        now = time.monotonic()
        if not left or now > deadline:
            break
        if now > nudge:
            nudge = now + 0.1
            _signal_pids(left, signal.SIGTERM)
        time.sleep(0.01)
    _signal_pids(left, signal.SIGKILL)


def _release_semaphores() -> None:
    """Unlink this process's named multiprocessing semaphores (the pool's) and unregister them
    from the resource tracker, before an ``os._exit`` (else the tracker warns about leaked
    semaphores).  Os calls only, for a signal handler: ``multiprocessing.util._run_finalizers``
    would take the tracker's lock, which the interrupted main thread may hold (spawning a
    worker), and print a traceback."""
    if _SemLock is None:
        return
    fd = getattr(getattr(resource_tracker, "_resource_tracker", None), "_fd", None)
    for fin in list(getattr(mp_util, "_finalizer_registry", {}).values()):
        args = getattr(fin, "_args", None) or ()
        if getattr(fin, "_callback", None) is not _SemLock._cleanup or len(args) != 1:
            continue
        try:
            _sem_unlink(args[0])
        except OSError:
            pass
        if fd is not None:
            try:
                os.write(fd, f"UNREGISTER:{args[0]}:semaphore\n".encode("ascii"))
            except (OSError, UnicodeEncodeError):
                pass


#: After Ctrl-C, how long runs in flight get to wind down before their workers are terminated.
_ABANDON_AFTER_S = 1.5


def _submit_shielded(pool, fn, arg):
    """``pool.submit`` with SIGINT blocked in this thread meanwhile: a worker spawned now starts
    with SIGINT blocked (the mask survives exec) until its initializer has installed its handler
    and unblocks it, so a Ctrl-C never prints a traceback from a worker still importing, and is
    not lost either.  (Ignoring SIGINT here instead lost a Ctrl-C that came meanwhile: in this
    process, then the second Ctrl-C was taken for the first.)  A SIGINT that comes meanwhile
    is handled in this process when it is unblocked, or at once if another thread takes it
    (the handler takes no lock)."""
    if not _HAS_SIGMASK:
        return pool.submit(fn, arg)
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return pool.submit(fn, arg)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _stop_pool(pool, graceful: bool) -> None:
    """Shut the pool down without ``ProcessPoolExecutor.__exit__`` (whose second ``shutdown``
    could wait for ever on a worker): gracefully when idle, otherwise by terminating workers."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    if graceful:
        pool.shutdown(wait=True)
        return
    pool.shutdown(wait=False, cancel_futures=True)
    # the worker kills its kernel, removes its files, exits
    _signal_pids([p.pid for p in procs if p.is_alive()], signal.SIGTERM)
    deadline = time.monotonic() + 1.0
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(1.0)


def _execute_local(tasks, jobs, on_done, interrupts: _Interrupts | None = None):
    """Run ``tasks`` (an iterable, consumed lazily) on ``jobs`` local processes; call ``on_done(record)``.

    At most ``jobs`` runs are submitted at a time, so nothing waits in a queue that Ctrl-C
    would have to drain.  If ``on_done`` raises (or Ctrl-C cancels), no further run starts.
    """
    cancelled = (lambda: interrupts.cancelled) if interrupts is not None else _CANCEL.is_set
    tasks = iter(tasks)
    if jobs == 1:
        for t in tasks:
            if cancelled():
                break
            on_done(run_one(t))
        return
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=_init_worker,
                               initargs=(os.getpid(),))
    if interrupts is not None:
        interrupts.workers = lambda: _pool_pids(pool)
    running: dict = {}
    unfinished: dict = {}  # run_id -> task, from submission until its record arrives
    graceful = False

    def fill():
        while len(running) < jobs and not cancelled():
            t = next(tasks, None)
            if t is None:
                return
            running[_submit_shielded(pool, run_one, t)] = t
            unfinished[t["run_id"]] = t
        if cancelled():  # Ctrl-C while submitting: a worker started meanwhile may not have seen it
            _signal_pids(_pool_pids(pool), signal.SIGINT)

    try:
        fill()
        deadline = None
        while running:
            done, _ = wait(list(running), timeout=0.1, return_when=FIRST_COMPLETED)
            for fut in done:
                rec = _result_or_failure(fut, running.pop(fut))
                if rec["status"] != "cancelled":
                    unfinished.pop(rec["run_id"], None)
                if rec["status"] == "cancelled":
                    _CANCEL.set()  # a worker saw a Ctrl-C that this process missed: stop here too
                on_done(rec)
            if not cancelled():
                fill()
                continue
            if deadline is None:
                deadline = time.monotonic() + _ABANDON_AFTER_S
            elif time.monotonic() > deadline:  # abandon the runs still winding down
                for t in running.values():
                    on_done(_cancelled_record(t, started=True))
                running.clear()
                break
        graceful = not cancelled()
    except BaseException:
        _signal_pids(_pool_pids(pool), signal.SIGINT)  # stop the kernels of runs in flight
        raise
    finally:
        _stop_pool(pool, graceful)
        # a worker stopped while it wound down (Ctrl-C, or killed after its grace period) may
        # leave its run's staging folder: the runs it held are discarded, so are their folders
        for t in unfinished.values():
            final = Path(t["run_dir"])
            shutil.rmtree(final.with_name(final.name + ".partial"), ignore_errors=True)


def _execute_dask(tasks, scheduler, on_done, interrupts: _Interrupts | None = None):
    """Send the runs to a Dask scheduler.  Ctrl-C cancels the runs not yet started there (runs
    already executing on a worker finish there: Dask cannot interrupt a running task)."""
    from distributed import Client

    cancelled = (lambda: interrupts.cancelled) if interrupts is not None else _CANCEL.is_set
    try:
        client = Client(scheduler, set_as_default=False)
    except OSError as exc:  # a wrong address is a usage error, not a failed run (exit status 1)
        raise ValueError(f"--scheduler {scheduler}: cannot connect: {exc}") from exc
    with client:
        tasks = list(tasks)
        futures = client.map(run_one, tasks, pure=False, key=[f"followerlab-{t['run_id']}-{uuid.uuid4().hex[:8]}"
                                                              for t in tasks])
        pending = dict(zip(futures, tasks))
        while pending:
            if cancelled():
                client.cancel(list(pending))
                for t in pending.values():
                    on_done(_cancelled_record(t, started=False))
                return
            done = [f for f in pending if f.done()]  # futures' states are updated by the client's thread
            if not done:
                time.sleep(0.1)
            for fut in done:
                on_done(_result_or_failure(fut, pending.pop(fut)))


def _result_or_failure(fut, task) -> dict:
    """A future's record; a "cancelled" record if it was cancelled; a failure record when the
    worker itself died.  A full disk / unwritable output (:class:`OutputStorageError`) is re-raised:
    it stops the batch."""
    if fut.cancelled():
        return _cancelled_record(task, started=False)
    try:
        return fut.result()
    except OutputStorageError:
        raise
    except Exception as exc:
        if _CANCEL.is_set():  # the worker was stopped by Ctrl-C
            return _cancelled_record(task, started=True)
        rec = {k: task[k] for k in ("run_id", "scenario", "base_scenario", "label", "notebook", "notebook_path",
                                    "parameters", "effective", "hash")}
        rec.update(status="failed", error={"type": type(exc).__name__, "message": str(exc), "cell": None,
                                           "traceback": "".join(traceback.format_exception(exc))},
                   duration_s=None, kernel_attempts=None)
        run_dir = Path(task["run_dir"])
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(run_dir / "run.json", json.dumps(rec, indent=2, default=str))
        except OSError as err:
            raise _storage_error(err, run_dir) from err
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


# ----------------------------------------------------------------------------- the output folder


def _prepare_out(out: Path) -> None:
    """Create ``out`` (and ``out/runs``); a non-directory, unwritable or full folder is an
    :class:`OutputStorageError`, not a traceback."""
    if out.exists() and not out.is_dir():
        raise OutputStorageError("not writable", out, "exists and is not a directory")
    try:
        (out / "runs").mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputStorageError("not writable", out / "runs", "exists and is not a directory") from None
    except OSError as exc:
        raise _storage_error(exc, out) from exc
    if not os.access(out, os.W_OK | os.X_OK):
        raise OutputStorageError("not writable", out, "no write permission")


class _OutputLock:
    """One batch at a time per output folder: ``out/.followerlab-batch.lock`` (``flock``, owner pid inside).

    The kernel releases an ``flock`` when its holder dies, so the lock of a batch killed by
    SIGKILL or a crash is taken over by the next batch (``took_over`` names the dead owner).
    A live owner → :class:`OutputLockedError` naming its pid, host, start time and command.
    """

    def __init__(self, out: Path):
        self.path = out / LOCK_NAME
        self.fd = None
        self.took_over: dict | None = None

    @staticmethod
    def _read(fd) -> dict:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            return json.loads(os.read(fd, 65536).decode() or "{}")
        except (OSError, ValueError):
            return {}

    def __enter__(self):
        import fcntl

        for _ in range(10):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise _storage_error(exc, self.path) from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = self._read(fd)
                os.close(fd)
                raise OutputLockedError(
                    f"--out {self.path.parent} is in use by another batch (pid {owner.get('pid', '?')} on "
                    f"{owner.get('host', '?')}, since {owner.get('started', '?')}: {owner.get('command', '?')}); "
                    f"wait for it to finish or choose another --out (lock file {self.path})") from None
            try:  # the owner we waited on may have removed the file: lock the file that is there now
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            previous = self._read(fd)
            if previous.get("pid"):
                self.took_over = previous
            info = {"pid": os.getpid(), "host": socket.gethostname(),
                    "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "command": " ".join(sys.argv)[:300]}
            try:
                os.ftruncate(fd, 0)
                os.lseek(fd, 0, os.SEEK_SET)
                os.write(fd, json.dumps(info).encode())
            except OSError as exc:
                os.close(fd)
                raise _storage_error(exc, self.path) from exc
            self.fd = fd
            return self
        raise OutputLockedError(f"--out {self.path.parent}: could not take the lock file {self.path}")

    def __exit__(self, *exc):
        if self.fd is not None:
            try:
                os.unlink(self.path)  # while still holding it: a waiting batch re-checks the file
            except OSError:
                pass
            os.close(self.fd)
            self.fd = None


def run_batch(scenarios, out, *, notebooks=None, notebook_dir=None, jobs: int = 1, scheduler: str | None = None,
              force: bool = False, progress: bool | None = None, report: bool = True, compare=None,
              kernel_name: str = "python3", timeout_s: float = 600.0, start_timeout_s: float = 60.0,
              max_runs: int | None = None, confirm=None) -> BatchResult:
    """Run every scenario × notebook, gather the results and write the report.

    Parameters
    ----------
    scenarios : path or sequence of paths
        Scenario files or folders of them (see ``data/scenarios/README.md``).
    out : path
        Output folder (created).  Owned by this batch while it runs (lock file
        ``.followerlab-batch.lock``); another batch on it raises :class:`OutputLockedError`.
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
        Re-run even runs whose skip key (notebook, parameters, kernel, followerlab version and
        code, data files) matches their last success.
    progress : bool or None
        ``True``: tqdm progress bar on stderr; ``None``: the bar when stderr is a terminal,
        otherwise one line per finished run (``make report | cat`` shows progress); ``False``:
        nothing.
    report : bool
        Write ``index.html`` and figures (:mod:`followerlab.report`).
    compare : bool, path or None
        Also run the comparison notebook on the gathered table (into ``out/comparison/``, linked
        from the index).  ``None``: when ``report`` is set and
        ``notebooks/04-compare-configurations.ipynb`` exists; a path: that notebook.
    kernel_name : str
        Jupyter kernel for every notebook.
    timeout_s, start_timeout_s : float
        Per-cell execution timeout and kernel start timeout (positive, finite).
    max_runs : int or None
        Refuse (:class:`TooManyRunsError`) more planned runs than this unless ``confirm(n)``
        returns True; ``None``: no cap.
    confirm : callable or None
        ``confirm(n_runs) -> bool``, asked when the plan exceeds ``max_runs``.

    Returns
    -------
    BatchResult
        ``interrupted`` when Ctrl-C stopped it (exit status 130): queued runs never started,
        runs in flight were stopped and dropped, the finished ones were gathered.

    Raises
    ------
    followerlab.scenarios.ScenarioError
        An invalid scenario file (before anything runs).
    OutputLockedError, TooManyRunsError
        Another batch owns ``out``; too many runs (nothing ran).
    OutputStorageError
        ``out`` is full, not writable or not a directory (``exit_status`` 102 / 103); finished
        runs are kept, nothing half-written is taken as done.
    ValueError
        ``jobs`` < 1, a timeout that is not a positive finite number.
    """
    from ._validate import as_int_array

    jobs = int(as_int_array("jobs", jobs, minimum=1))
    if max_runs is not None:
        max_runs = int(as_int_array("max_runs", max_runs, minimum=1))
    t0 = time.perf_counter()
    out = Path(out).resolve()
    plan = _plan(scenarios, out, notebooks=notebooks, notebook_dir=notebook_dir, kernel_name=kernel_name,
                 timeout_s=timeout_s, start_timeout_s=start_timeout_s)
    n_planned = len(plan)
    if max_runs is not None and n_planned > max_runs and not (confirm is not None and confirm(n_planned)):
        raise TooManyRunsError(f"{n_planned} runs planned, more than the cap of {max_runs} (--max-runs); "
                               "confirm with --yes or raise --max-runs (or sweep a list parameter in one kernel)")
    interactive = sys.stderr.isatty()
    lines = progress is None and not interactive
    if progress is not False:
        print(f"followerlab batch: {n_planned} runs -> {out}", file=sys.stderr, flush=True)
    _prepare_out(out)
    with _OutputLock(out) as lock, _Interrupts() as interrupts:
        if lock.took_over and progress is not False:
            print(f"followerlab batch: took over the lock of pid {lock.took_over.get('pid')} (no longer running)",
                  file=sys.stderr, flush=True)
        for stale in list((out / "runs").glob("*.partial")) + list((out / "runs").glob("*.old")):
            shutil.rmtree(stale, ignore_errors=True)  # left by an interrupted batch; never taken as done
        return _run_locked(plan, out, n_planned, t0, interrupts, jobs=jobs, scheduler=scheduler, force=force,
                           bar_on=bool(progress) or (progress is None and interactive), lines=lines, report=report,
                           compare=compare, notebook_dir=notebook_dir, kernel_name=kernel_name,
                           timeout_s=timeout_s, start_timeout_s=start_timeout_s)


def _run_locked(plan, out, n_planned, t0, interrupts, *, jobs, scheduler, force, bar_on, lines, report, compare,
                notebook_dir, kernel_name, timeout_s, start_timeout_s) -> BatchResult:
    from tqdm.auto import tqdm

    records: dict[str, dict] = {}
    order: list[str] = []
    bar = tqdm(total=n_planned, desc="followerlab batch", unit="run", disable=not bar_on)
    counter = {"n": 0}

    def on_done(rec):
        if rec["status"] == "cancelled":
            return
        records[rec["run_id"]] = rec
        counter["n"] += 1
        err = rec.get("error") or {}
        if rec["status"] == "failed":
            bar.write(f"FAILED {rec['run_id']}: {err.get('type')}: {err.get('message')}")
        if lines:
            dur = rec.get("duration_s")
            print(f"[{counter['n']}/{n_planned}] {rec['status']} {rec['run_id']}"
                  + (f" ({dur:.1f} s)" if dur is not None else ""), file=sys.stderr, flush=True)
        bar.update(1)

    def todo():
        for t in plan:
            if scheduler and t["parameters"].get("sweep"):
                t["sweep_scheduler"] = scheduler  # the sweep's chunks go to the cluster too (not hashed)
            order.append(t["run_id"])
            prev = None if force else _previous(t)
            if prev is None:
                yield t
                continue
            records[t["run_id"]] = {**prev, **{k: t[k] for k in ("label", "description", "source")},  # not hashed
                                    "status": "skipped", "reused": True, "reused_from": prev.get("finished"),
                                    "duration_s": 0.0}
            counter["n"] += 1
            bar.update(1)

    storage_error = None
    try:
        if scheduler:
            _execute_dask(todo(), scheduler, on_done, interrupts)
        else:
            _execute_local(todo(), jobs, on_done, interrupts)
    except OutputStorageError as exc:
        storage_error = exc
    finally:
        bar.close()
    interrupted = interrupts.cancelled
    ordered = [records[r] for r in order if r in records]
    runs = _runs_frame(ordered)
    try:
        table = gather_results(ordered, out)
        sensitivity = gather_sensitivity(ordered, out)
        atomic_write_text(out / "runs.csv", runs.to_csv(index=False))
    except OSError as exc:  # after a full disk, gathering may fail too: report the full disk
        if storage_error is None:
            if _storage_kind(exc, cells=False) is None:
                raise
            storage_error = _storage_error(exc, out)
    if storage_error is not None:
        n_kept = sum(r["status"] in ("ok", "skipped") for r in ordered)
        raise OutputStorageError(storage_error.kind, storage_error.path,
                                 f"{storage_error.detail}; {n_kept} of {n_planned} runs finished and are kept "
                                 "(nothing half-written); free space or fix --out and run again to continue")
    index = ""
    comparison = None
    if compare is None:
        compare = report
    if compare and len(table) and not interrupted:
        from .scenarios import default_notebook_dir

        nb = Path(compare) if not isinstance(compare, bool) else \
            Path(notebook_dir or default_notebook_dir()) / f"{COMPARISON_NOTEBOOK}.ipynb"
        if nb.is_file():
            comparison = _run_comparison(out, nb.resolve(), kernel_name, timeout_s, start_timeout_s)
        elif not isinstance(compare, bool):
            raise ValueError(f"compare: notebook not found: {nb}")
    if report:
        from .report import write_report

        try:
            # after Ctrl-C: the index without figures (drawing them could take seconds)
            index = str(write_report(out, ordered, table, comparison=comparison, figures=not interrupted,
                                     sensitivity=sensitivity))
        except OSError as exc:
            if _storage_kind(exc, cells=False) is None:
                raise
            raise _storage_error(exc, out) from exc
    status = runs["status"]
    return BatchResult(runs=runs, table=table, n_ok=int((status == "ok").sum()),
                       n_skipped=int((status == "skipped").sum()), n_failed=int((status == "failed").sum()),
                       elapsed_s=time.perf_counter() - t0, out=str(out), index=index, n_planned=n_planned,
                       interrupted=interrupted or interrupts.cancelled)
