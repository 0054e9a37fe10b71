"""Issue 7, the short CI version: the Raft model (followerlab.raft) against a real etcd cluster.

One 3-member etcd cluster on loopback with delaying proxies; ONE calibration of the local
overhead on the zero-delay layout, applied unchanged to three WAN-like layouts; the measured
p50 of a put to the leader must be within max(3 ms, 10 %) of the prediction (issue 7's rule).
p50 and p90 only, never p99 (p99 is noise on 2 shared cores).  Interleaved rounds spread the
machine's load drift over all layouts.  Skips without etcd, fails without it when CI is set.

Why a wrong formula fails: the layouts separate the candidates.  With x = (30, 50, 80) and the
leader at 0, the (q-1)-th fastest follower gives 80 ms, the slowest 110 ms, their mean 95 ms; in
the slow-member layout (35, 35, 120) the answer is 70 ms and the slowest 155 ms; conventions
like RTT = 2 x_j or max(x_i, x_j) are 10-40 ms off.  Each gap exceeds the tolerance (7-8 ms).
The layouts are WAN-like on purpose: each delayed hop costs this loaded 2-core machine a few
ms the model does not have (notebook 05), which 10 % covers only at such RTTs.
"""

from __future__ import annotations

import os
import time

import pytest

from followerlab.validation.cluster import etcd_available
from followerlab.validation.experiments import CI_LAYOUTS, compare, run_latency_experiment

pytestmark = pytest.mark.etcd


@pytest.fixture(scope="module")
def measured():
    if not etcd_available():
        if os.environ.get("CI"):
            pytest.fail("CI is set but the etcd binary is missing (apt-get install etcd-server etcd-client)")
        pytest.skip("etcd binary not installed (apt-get install etcd-server etcd-client, or set ETCD_BIN)")
    t0 = time.monotonic()
    samples = run_latency_experiment(CI_LAYOUTS, count=40, rounds=4, max_time_s=90.0,
                                     ops=("put_leader", "put_follower"))
    table = compare(samples, CI_LAYOUTS)
    print(table.round(2).to_string())
    print(f"etcd check took {time.monotonic() - t0:.1f} s")
    return table


def test_put_to_leader_p50_matches_raft_model_for_three_layouts(measured):
    rows = measured[(measured.op == "put_leader") & (measured.layout != "zero-3")]
    assert len(rows) == 3
    assert rows.samples.min() >= 40          # the time bound did not cut the run short
    bad = rows[~rows.within_tol]
    assert bad.empty, f"p50 off by more than max(3 ms, 10 %):\n{bad.to_string()}"


def test_forwarded_put_pays_the_hop_to_the_leader(measured):
    # put via a follower costs RTT(f, L) more than at the leader (80, 130, 155 ms here); checked
    # loosely (25 %) because its path has four proxy crossings (see the notebook)
    m = measured.set_index(["layout", "op"])
    for lay in ("wan-sym-3", "wan-asym-3", "wan-slow-member-3"):
        extra = m.loc[(lay, "put_follower"), "measured_p50_ms"] - m.loc[(lay, "put_leader"), "measured_p50_ms"]
        hop = m.loc[(lay, "put_follower"), "network_ms"] - m.loc[(lay, "put_leader"), "network_ms"]
        assert abs(extra - hop) <= 0.25 * hop, (lay, extra, hop)


def test_p90_is_not_below_p50_and_above_the_network_part(measured):
    rows = measured[measured.layout != "zero-3"]
    assert (rows.measured_p90_ms >= rows.measured_p50_ms).all()
    assert (rows.measured_p50_ms >= rows.network_ms).all()   # nothing beats the injected delay
