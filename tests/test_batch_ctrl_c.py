"""Ctrl-C as a terminal sends it (SIGINT to the process group) during ``--jobs 2`` (issue 14).

Each test starts the CLI in its own session with a grid of the cheap fixture notebook.
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
