"""Ctrl-C as a terminal sends it (SIGINT to the process group) during ``--jobs 2`` (issue 14).

The first tests start the CLI in its own session with a grid of the cheap fixture notebook; the
last ones check the signal handlers and ``_submit_shielded`` directly (in child processes).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

FIX = Path(__file__).resolve().parent / "fixtures"
def _grid(tmp_path, n):
    scen = tmp_path / "g.yaml"
    periods = ", ".join(str(10 * (i + 1)) for i in range(n))
    scen.write_text(f"name: g\nnotebooks: [{FIX / 'notebooks' / 'fx-refresh-lag.ipynb'}]\n"
                    f"grid: {{refresh_period_s: [{periods}]}}\n")
    return scen


def _start_batch(tmp_path, scen, out):
    """The CLI in its own session (so the test can signal its process group like a terminal),
    with its kernels' socket files and connection files in folders of this test."""
    import os

    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    (tmp_path / "tmp").mkdir()
    return subprocess.Popen([sys.executable, "-m", "followerlab", "batch", str(scen), "--out", str(out), "--jobs", "2",
                             "--no-report", "--no-compare"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env=env)


def _wait_for(cond, timeout_s=120):
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _leftovers(tmp_path, pgid):
    """Kernel socket files, connection files, and whether the batch's process group still has a
    process (waiting up to 5 s: pool workers and multiprocessing's resource tracker exit last)."""
    import os

    deadline = time.monotonic() + 5.0
    while True:
        try:
            os.killpg(pgid, 0)
            group_alive = True
        except ProcessLookupError:
            group_alive = False
        if not group_alive or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if group_alive:
        print(subprocess.run(["ps", "-o", "pid,stat,etimes,args", "-g", str(pgid)], capture_output=True, text=True).stdout)
    sockets = [p.name for p in (tmp_path / "tmp").glob("followerlab-kernel-*")]
    # connection files: papermill's kernel managers write them with mkstemp (in TMPDIR), others in the runtime dir
    conns = [p.name for p in (tmp_path / "tmp").glob("*.json")]
    conns += [p.name for p in (tmp_path / "runtime").glob("kernel-*.json")] if (tmp_path / "runtime").exists() else []
    return sockets, conns, group_alive


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and parent-death signal")
def test_ctrl_c_to_the_process_group_cancels_the_queue_and_gathers_what_finished(tmp_path):
    import os
    import signal

    import pandas as pd

    out = tmp_path / "out"
    batch = _start_batch(tmp_path, _grid(tmp_path, 12), out)
    runs = out / "runs"
    try:
        finished = lambda: sorted(p.name for p in runs.iterdir() if (p / "run.json").exists()) if runs.exists() else []  # noqa: E731
        _wait_for(lambda: len(finished()) >= 1 or batch.poll() is not None)
        present = {p.name.removesuffix(".partial") for p in runs.iterdir()}  # started before the signal
        t0 = time.monotonic()
        os.killpg(batch.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        _, err = batch.communicate(timeout=30)
        elapsed = time.monotonic() - t0
    finally:
        if batch.poll() is None:
            os.killpg(batch.pid, signal.SIGKILL)
    assert batch.returncode == 130, err
    assert elapsed < 5.0, elapsed
    done = finished()
    assert 1 <= len(done) < 12 and set(done) <= present, (done, present)  # no run started after the signal
    table = pd.read_csv(out / "results.csv")
    assert sorted(table["run_id"].unique()) == done  # the finished runs are gathered
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert [ln for ln in err.splitlines() if ln.startswith("followerlab: interrupted")] == [err.splitlines()[-1]]
    assert "[1/12] ok g@refresh_period_s=" in err  # a line per finished run when stderr is not a terminal
    assert not list(runs.glob("*.partial"))
    assert _leftovers(tmp_path, batch.pid) == ([], [], False)  # no socket or connection file, no process


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and parent-death signal")
def test_a_second_ctrl_c_exits_at_once(tmp_path):
    import os
    import signal

    out = tmp_path / "out"
    batch = _start_batch(tmp_path, _grid(tmp_path, 10), out)
    try:  # two runs in flight, their kernels started
        _wait_for(lambda: len(list((tmp_path / "tmp").glob("followerlab-kernel-*"))) >= 10 or batch.poll() is not None)
        os.killpg(batch.pid, signal.SIGINT)
        time.sleep(0.2)
        t0 = time.monotonic()
        os.killpg(batch.pid, signal.SIGINT)
        _, err = batch.communicate(timeout=30)
        elapsed = time.monotonic() - t0
    finally:
        if batch.poll() is None:
            os.killpg(batch.pid, signal.SIGKILL)
    assert batch.returncode == 130 and elapsed < 1.5, (batch.returncode, elapsed, err)
    assert "Traceback" not in err and "leaked semaphore" not in err, err
    assert err.splitlines()[-1].startswith("followerlab: interrupted again"), err
    assert _leftovers(tmp_path, batch.pid) == ([], [], False)


# ----------------------------------------------------------------------------- the signal handlers themselves
# The flaky "second Ctrl-C" test above hung when a pool worker outlived the batch: its SIGTERM
# handler ran inside its SIGINT handler's threading.Event.set (the second Ctrl-C, the batch's
# SIGTERM and the parent-death SIGTERM arrive together) and waited for ever on the Event's lock,
# which the interrupted handler held; the worker kept the batch's stderr open.

_WORKER = """
import os, signal, sys
from followerlab import batch
batch._init_worker(os.getppid())
print("ready", flush=True)
while True:  # the main thread forever setting the cancel flag, as a handler does
    batch._CANCEL.set()
    batch._CANCEL.clear()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX signals")
def test_a_worker_stops_on_sigterm_even_inside_a_handler_or_while_setting_the_cancel_flag():
    import os
    import signal

    # one-thread BLAS: signals to the process go to its main thread (CPython 3.9-3.11 may not run
    # the handler of a signal another thread took while the main thread runs Python, bpo-40010)
    env = {**os.environ, "PYTHONPATH": str(FIX.parent.parent), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    for _ in range(5):
        p = subprocess.Popen([sys.executable, "-c", _WORKER], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)
        try:
            assert p.stdout.readline() == "ready\n"
            time.sleep(0.05)
            os.kill(p.pid, signal.SIGINT)  # the second Ctrl-C, then the batch's SIGTERM at once
            os.kill(p.pid, signal.SIGTERM)
            os.kill(p.pid, signal.SIGTERM)  # the parent-death signal
            p.wait(timeout=10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        assert p.returncode == 128 + signal.SIGTERM, p.stderr.read()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX signal masks, /proc")
def test_a_ctrl_c_while_a_worker_is_being_started_is_not_lost():
    """_submit_shielded: a SIGINT that comes while ``pool.submit`` starts a worker is handled
    (ignoring SIGINT meanwhile lost it, and the second Ctrl-C was then taken for the first), and
    the worker started meanwhile has SIGINT blocked until its initializer installs its handler."""
    import os
    import signal

    from followerlab.batch import _Interrupts, _submit_shielded

    class Pool:
        def submit(self, fn, arg):
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the worker starts
            return fn(arg)

    def start_worker(_):
        out = subprocess.run([sys.executable, "-c", "print(open('/proc/self/status').read())"],
                             capture_output=True, text=True, check=True).stdout
        return int(next(ln for ln in out.splitlines() if ln.startswith("SigBlk:")).split()[1], 16)

    with _Interrupts() as interrupts:
        blocked = _submit_shielded(Pool(), start_worker, None)
        assert interrupts.count == 1
    assert blocked & (1 << (signal.SIGINT - 1))
    assert not signal.pthread_sigmask(signal.SIG_BLOCK, set()) & {signal.SIGINT}  # unblocked again here


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX signal masks")
def test_a_worker_handles_a_ctrl_c_that_came_while_it_started():
    """A worker starts with SIGINT blocked (see above); its initializer installs the handler and
    unblocks SIGINT, so a Ctrl-C that came meanwhile cancels it then."""
    import os

    code = ("import os, signal\n"
            "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})\n"
            "os.kill(os.getpid(), signal.SIGINT)\n"
            "from followerlab import batch\n"
            "assert not batch._CANCEL.is_set()\n"
            "batch._init_worker(os.getppid())\n"
            "print(batch._CANCEL.is_set())\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "PYTHONPATH": str(FIX.parent.parent)})
    assert (r.returncode, r.stdout) == (0, "True\n"), r.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="named semaphores in /dev/shm")
def test_the_second_ctrl_c_releases_the_pools_semaphores_without_locks():
    """What the second Ctrl-C's handler does before ``os._exit``: unlink the named semaphores and
    unregister them from the resource tracker with os calls only (no "leaked semaphore" warning)."""
    import os

    code = ("import os, multiprocessing as mp\n"
            "from followerlab import batch\n"
            "lock = mp.get_context('spawn').Lock()\n"
            "print(lock._semlock.name, flush=True)\n"
            "if {release}: batch._release_semaphores()\n"
            "os._exit(0)\n")
    env = {**os.environ, "PYTHONPATH": str(FIX.parent.parent)}
    for release in (False, True):
        r = subprocess.run([sys.executable, "-c", code.format(release=release)], capture_output=True, text=True,
                           timeout=60, env=env)
        name = r.stdout.strip().lstrip("/")
        assert r.returncode == 0 and name, r.stderr
        if release:
            assert "leaked semaphore" not in r.stderr, r.stderr
            assert not Path("/dev/shm", "sem." + name).exists()
        else:  # the control: without it the tracker warns (and cleans up)
            assert "leaked semaphore" in r.stderr, r.stderr
