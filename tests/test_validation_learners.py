"""Issue 15 part 4: etcd learners (non-voting replicas) against the model (short etcd run)."""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import pytest

from followerlab.validation.cluster import EtcdCluster, EtcdError, etcd_available
from followerlab.validation.client import measure_latency
from followerlab.validation.learners import learner_layouts, learner_tables, run_learner_experiment


def need_etcd():
    if etcd_available():
        return
    if os.environ.get("CI"):
        pytest.fail("CI is set but the etcd binary is missing (apt-get install etcd-server etcd-client)")
    pytest.skip("etcd binary not installed (apt-get install etcd-server etcd-client, or set ETCD_BIN)")


def _gone(pids, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    left = list(pids)
    while left and time.monotonic() < deadline:
        still = []
        for p in left:
            try:
                os.kill(p, 0)
                with open(f"/proc/{p}/stat") as fh:
                    if fh.read().split()[2] != "Z":
                        still.append(p)
            except (ProcessLookupError, OSError):
                pass
        left = still
        time.sleep(0.05)
    return not left


def test_learner_tables_predict_the_same_staleness_for_learner_and_voter():
    # synthetic: both replicas see put k exactly x_L = 10 ms after it returned
    rng = np.random.default_rng(5)
    rows = []
    for name in ("voter", "learner"):
        done = np.cumsum(rng.uniform(0.02, 0.05, 120))
        reads = np.sort(rng.uniform(0, done[-1], 3000))
        val = np.searchsorted(done + 0.010, reads, side="right") - 1
        rows += [(name, "write", k, t, k) for k, t in enumerate(done)]
        rows += [(name, "read", j, t, v) for j, (t, v) in enumerate(zip(reads, val))]
    raw = pd.DataFrame(rows, columns=["layout", "kind", "k", "t_s", "value"])
    out = learner_tables(raw, edges_ms=np.arange(0.0, 40.0, 1.0), trials=2000)
    t50 = out["t50"].set_index("layout")
    assert (t50.predicted_t50_ms == 10.0).all() and (t50.error_ms.abs() <= 1.0).all()
    assert (t50.crdb_follower_read_staleness_ms == 4200.0).all()
    lays = learner_layouts((1.0, 2.0, 3.0), 9.0)
    assert learner_tables(raw, layouts=learner_layouts((10.0, 10.0, 80.0)), edges_ms=np.arange(0.0, 40.0, 1.0),
                          trials=2000)["t50"].predicted_t50_ms.tolist() == [10.0, 10.0]
    assert lays[1].follower == 3 and lays[1].delays_ms == (1.0, 2.0, 3.0, 9.0)
    with pytest.raises(ValueError, match="learner_delay_ms"):
        learner_layouts((1.0, 1.0, 1.0), -1.0)


@pytest.mark.etcd
def test_learner_on_etcd_serializable_only_fresh_as_a_voter_and_not_in_the_quorum():
    need_etcd()
    with EtcdCluster(3, learners=1) as c:
        pids = c.pids()
        assert c.size == 4 and c.status(3).get("isLearner") and not c.status(1).get("isLearner")
        with pytest.raises(EtcdError, match="learner"):
            measure_latency(c, "range_linearizable", 3, 2, warmup=0)
        with pytest.raises(ValueError, match="delays_ms"):
            c.set_delays([1.0, 2.0])
    assert _gone(pids)
    # voter 2 is slow (80 ms): with 3 voters the commit waits for voter 1 (RTT 20 ms); were the
    # learner counted (4 members, quorum 3) it would wait for the 2nd fastest of 20, 90 and
    # 10 + x_learner ms, i.e. 50 ms (learner at 40) or 90 ms (learner at 150)
    r = run_learner_experiment((10.0, 10.0, 80.0), 40.0, writes=60, reads=30, far_learner_ms=150.0,
                               max_time_s=60.0)
    out = learner_tables(r["staleness"], r["latency"], learner_layouts((10.0, 10.0, 80.0), 40.0))
    t50 = out["t50"].set_index("layout")
    print(t50.round(2).to_string(), out["latency"].round(2).to_string(), sep="\n")
    # both see a put ~x_L = 10 ms after it returned (local apply adds ~1 ms; loose: loaded machine)
    assert np.all(np.abs(t50.measured_t50_ms - 10.0) <= 6.0)
    assert abs(t50.loc["learner", "measured_t50_ms"] - t50.loc["voter", "measured_t50_ms"]) <= 5.0
    lat = out["latency"].set_index(["what", "learner_delay_ms"]).p50_ms
    near, far = lat[("put_leader", 40.0)], lat[("put_leader", 150.0)]
    # the learner is not in the quorum: its delay changes nothing (counted, it would give 50 / 90 ms)
    assert abs(far - near) < 15.0 and far < 45.0 and near < 45.0
