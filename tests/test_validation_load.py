"""Issue 15 part 2: the open- and closed-loop load drivers (stub server; one short etcd check).

Every child process is started by a context manager whose exit stops it (also on a failed
assertion or Ctrl-C inside the block); the tests check that the pids are gone afterwards.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from scipy import stats

from followerlab.validation.cluster import etcd_available
from followerlab.validation.load import (LoadSample, RawPutClient, StubServer, closed_loop, load_summary, open_loop,
                                         poisson_schedule, run_load_curve)
from followerlab.validation.predict import Layout


def _gone(pid, timeout_s=5.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().split()[2] == "Z":
                    return True
        except OSError:
            return True
        time.sleep(0.05)
    return False


def test_poisson_schedule_is_poisson_and_bounded():
    t = poisson_schedule(500.0, 10**6, 20.0, seed=3)
    gaps = np.diff(np.concatenate([[0.0], t]))
    # exponential gaps of mean 2 ms: KS test against Exp(500) (independent of how they were drawn)
    assert stats.kstest(gaps, "expon", args=(0, 1 / 500)).pvalue > 1e-3
    assert t[-1] <= 20.0 and abs(t.size - 10_000) < 5 * 100      # Poisson(10000): sd 100
    assert poisson_schedule(500.0, 7, 20.0).size == 7             # bounded in count
    with pytest.raises(ValueError, match="rate_per_s"):
        poisson_schedule(0.0, 10, 1.0)


def test_open_loop_on_the_stub_delivers_the_offered_rate_and_stops_the_stub():
    with StubServer() as stub:
        pid = stub.pid
        s = open_loop(stub.port, 300.0, count=10**5, max_time_s=2.0, workers=16, seed=1)
    assert _gone(pid)
    summ = load_summary(s)
    assert summ["errors"] == 0 and summ["completed"] == s.scheduled_s.size
    assert abs(s.scheduled_s.size - 600) < 5 * np.sqrt(600)        # Poisson count in 2 s
    assert summ["throughput_per_s"] == pytest.approx(300.0, rel=0.2)
    assert np.all(s.sent_s >= s.scheduled_s - 1e-9)                 # never sent early
    assert np.all(s.done_s >= s.sent_s)
    assert s.scheduled_s.max() - s.scheduled_s.min() <= 2.0 + 1e-9


def test_closed_loop_counts_are_bounded_and_latency_positive():
    with StubServer() as stub:
        s = closed_loop(stub.port, 4, count=200, max_time_s=5.0)
    assert s.scheduled_s.size == 200 and s.ok.all()
    assert np.all(s.latency_ms > 0)
    assert load_summary(s)["driver_lag_p99_ms"] == 0.0


def test_stub_is_stopped_when_the_block_fails():
    with pytest.raises(AssertionError):
        with StubServer() as stub:
            pid = stub.pid
            assert False, "a failing assertion inside the block"
    assert _gone(pid)


def test_load_summary_on_a_known_sample():
    sched = np.arange(10) * 0.01
    s = LoadSample("open", 100.0, 0, sched, sched + 0.001, sched + 0.004 + np.arange(10) * 1e-3,
                   np.array([True] * 9 + [False]))
    out = load_summary(s)
    assert out["completed"] == 9 and out["errors"] == 1
    assert out["p50_ms"] == pytest.approx(8.0)                        # 4 + 0..8 ms, median 8
    assert out["driver_lag_p50_ms"] == pytest.approx(1.0)


def test_raw_client_refuses_an_error_answer():
    with StubServer() as stub:
        c = RawPutClient(stub.port)
        c.put("k", "v")                                               # 200 {} is fine
        c.close()
    with pytest.raises(Exception):
        RawPutClient(stub.port, timeout_s=0.5).put("k", "v")          # the stub is gone


@pytest.mark.etcd
def test_open_and_closed_loop_against_etcd_stop_every_process():
    if not etcd_available():
        if os.environ.get("CI"):
            pytest.fail("CI is set but the etcd binary is missing")
        pytest.skip("etcd binary not installed")
    import followerlab.validation.cluster as cl

    lay = Layout("sym-3", (5.0, 5.0, 5.0))
    seen = []
    orig = cl.EtcdCluster.__enter__

    def spy(self):
        out = orig(self)
        seen.extend(self.pids())
        return out

    cl.EtcdCluster.__enter__ = spy
    try:
        o = run_load_curve([lay], points=(50.0,), seconds=1.0)
        c = run_load_curve([lay], mode="closed", points=(2,), seconds=1.0)
    finally:
        cl.EtcdCluster.__enter__ = orig
    assert len(seen) == 2 * 4 and all(_gone(p) for p in seen)         # 3 members + proxy, twice
    assert o.errors.iloc[0] == 0 and o.completed.iloc[0] >= 20
    assert o.p50_ms.iloc[0] >= 10.0                                   # RTT x_L + x_f = 10 ms
    assert c.completed.iloc[0] >= 10 and c.p50_ms.iloc[0] >= 10.0
    assert {"loadavg_1m", "cpus", "utc"} <= set(o.columns)


def test_ctrl_c_during_an_open_loop_run_stops_the_driver_and_the_stub(tmp_path):
    import signal
    import subprocess
    import sys
    import textwrap

    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent("""
        from followerlab.validation.load import StubServer, open_loop
        with StubServer() as stub:
            print(stub.pid, flush=True)
            open_loop(stub.port, 50.0, count=10**6, max_time_s=60.0, workers=4)
    """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(p) for p in __import__("sys").path if p])}
    # SIGINT as a terminal's foreground process has it, even when the tests run in a background job
    # (which starts with SIGINT ignored: Python would then never raise KeyboardInterrupt)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        stub_pid = int(proc.stdout.readline())
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        proc.wait(20.0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5.0)
        proc.stdout.close()
    assert proc.returncode != 0                      # KeyboardInterrupt ended it, not the 60 s bound
    assert _gone(stub_pid)


@pytest.mark.parametrize("fresh, clusters", [(False, [3, 5]), (True, [3, 5, 3])])
def test_one_cluster_per_size_or_a_fresh_one_per_layout(fake_etcd, fresh, clusters):
    """No etcd: a fake cluster records what it was asked for (tests/conftest.py); ``fresh_cluster``
    gives every layout its own cluster (in the given order), the default one per size."""
    made, points = fake_etcd
    lays = [Layout("a", (5.0, 5.0, 5.0)), Layout("b", (1.0, 2.0, 3.0, 4.0, 5.0)), Layout("c", (9.0, 9.0, 9.0))]
    out = run_load_curve(lays, points=(10.0,), seconds=0.1, fresh_cluster=fresh)
    assert made == clusters
    assert out.layout.tolist() == (["a", "b", "c"] if fresh else ["a", "c", "b"])
    # each layout's points run on the cluster made for it (the count of clusters made so far)
    runs = [cluster for cluster, _, _ in points]
    assert runs == ([1, 2, 3] if fresh else [1, 1, 2])
    with pytest.raises(ValueError, match="fresh_cluster must be True or False; got 'yes'"):
        run_load_curve(lays, points=(10.0,), fresh_cluster="yes")
