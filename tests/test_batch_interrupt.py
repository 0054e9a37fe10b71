"""Batch edge cases: Ctrl-C cancels queued runs; a skipped run shows the current label; a bad --scheduler; kill -9."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from followerlab import batch as batch_mod  # first: keeps nbformat's import light (see batch)

import pytest  # noqa: E402

FIX = Path(__file__).resolve().parent / "fixtures"


def test_interrupt_cancels_queued_runs(tmp_path):
    scen = tmp_path / "g.yaml"
    scen.write_text(f"name: g\nnotebooks: [{FIX / 'notebooks' / 'fx-refresh-lag.ipynb'}]\n"
                    "grid: {refresh_period_s: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]}\n")
    tasks = batch_mod.plan_runs(scen, tmp_path / "out")
    done = []

    def on_done(rec):  # as if Ctrl-C arrived while the first runs were finishing
        done.append(rec["run_id"])
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        batch_mod._execute_local(tasks, 2, on_done)
    finished = [p for p in (tmp_path / "out" / "runs").iterdir() if (p / "run.json").exists()]
    assert len(done) == 1 and len(finished) < 6, [p.name for p in finished]  # not all 10 runs


def test_a_skipped_run_shows_the_scenario_files_current_label(tmp_path):
    """Changing only ``label:`` (not hashed) must not leave the old name in the table and report."""
    scen = tmp_path / "s.yaml"
    scen.write_text(f"name: s\nlabel: new name\nnotebooks: [{FIX / 'notebooks' / 'fx-refresh-lag.ipynb'}]\n")
    (task,) = batch_mod.plan_runs(scen, tmp_path / "out")
    run_dir = Path(task["run_dir"])  # as the last successful run left it, under the old label
    run_dir.mkdir(parents=True)
    (run_dir / "results.csv").write_text("configuration,metric,value,unit\nc,staleness_mean_s,1.0,s\n")
    sha = __import__("hashlib").sha256((run_dir / "results.csv").read_bytes()).hexdigest()  # run.json records it
    (run_dir / "run.json").write_text(json.dumps({**task, "label": "old name", "status": "ok", "results_sha256": sha}))
    result = batch_mod.run_batch(scen, tmp_path / "out", report=False, compare=False, progress=False)
    assert result.n_skipped == 1 and result.table["label"].tolist() == ["new name"]


def test_an_unreachable_scheduler_is_a_usage_error_not_one_failed_run(tmp_path, capsys):
    dask = pytest.importorskip("dask")
    # Import distributed first: dask.config.set restores the config by deleting keys that did not
    # exist when it was entered, so a first import of distributed inside the block would leave
    # later tests (a LocalCluster) without the 'distributed' defaults.
    pytest.importorskip("distributed")
    from followerlab.cli import USAGE_ERROR, main

    scen = tmp_path / "s.yaml"
    scen.write_text(f"name: s\nnotebooks: [{FIX / 'notebooks' / 'fx-refresh-lag.ipynb'}]\n")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        status = main(["batch", str(scen), "--out", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:1",
                       "--no-progress"])
    assert status == USAGE_ERROR  # not 1, which would read as "one run failed"
    assert "--scheduler tcp://127.0.0.1:1: cannot connect" in capsys.readouterr().err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux-only")
def test_pool_workers_exit_when_the_batch_process_is_killed(tmp_path):
    """``kill -9`` of the batch (or the OOM killer) must not leave its --jobs workers running for ever."""
    psutil = pytest.importorskip("psutil")
    scen = tmp_path / "g.yaml"
    scen.write_text(f"name: g\nnotebooks: [{FIX / 'notebooks' / 'fx-refresh-lag.ipynb'}]\n"
                    "grid: {refresh_period_s: [10, 20, 30, 40, 50, 60]}\n")
    batch = subprocess.Popen([sys.executable, "-m", "followerlab", "batch", str(scen), "--out", str(tmp_path / "out"),
                              "--jobs", "2", "--no-progress", "--no-report"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    workers = []
    try:
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline:  # wait for the pool's two workers
            time.sleep(0.2)
            workers = [p for p in psutil.Process(batch.pid).children() if "spawn_main" in " ".join(p.cmdline())]
        assert len(workers) == 2
        time.sleep(1.0)  # let them initialize
        batch.kill()
        batch.wait(10)
        gone, alive = psutil.wait_procs(workers, timeout=5)
        assert not alive, f"orphaned pool workers: {[p.pid for p in alive]}"
    finally:
        batch.kill()
        for p in workers:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass



def test_reap_kills_a_child_that_ignores_sigterm():
    """The batch's last resort: a worker that ignores SIGTERM (or is stuck past the grace time)
    gets SIGKILL, so no child outlives the batch; one that exits on SIGTERM is only reaped."""
    import signal

    stubborn = subprocess.Popen([sys.executable, "-c", "import signal, sys, time; "
                                 "signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); "
                                 "time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    polite = subprocess.Popen([sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert stubborn.stdout.readline().strip() == "ready" and polite.stdout.readline().strip() == "ready"
        for p in (stubborn, polite):
            p.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        batch_mod._reap([stubborn.pid, polite.pid], timeout_s=0.5)
        took = time.monotonic() - t0
        assert stubborn.wait(timeout=10) == -signal.SIGKILL    # SIGTERM ignored: killed at the deadline
        assert 0.4 < took < 5.0
        # the polite one exited on the SIGTERM and was reaped by _reap's waitpid
        with pytest.raises(ChildProcessError):
            os.waitpid(polite.pid, os.WNOHANG)
    finally:
        for p in (stubborn, polite):
            if p.poll() is None:
                p.kill()
            p.stdout.close()
