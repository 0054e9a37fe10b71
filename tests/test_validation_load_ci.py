"""Issue 15, the short CI run: write_load calibrated on one etcd layout's load curve predicts
another's p50/p99 within 15 % (rates below 80 % of saturation), or the test SKIPS and says at
which machine load it did so (never a silent pass).  Under ~60 s; every process it starts is
stopped by the cluster's context manager (also on Ctrl-C and failed assertions)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from followerlab import raft
from followerlab.validation.cluster import etcd_available
from followerlab.validation.load_experiments import CI_LAYOUTS_LOAD, ci_check, curve_comparison


def test_curve_comparison_on_curves_write_load_generated():
    rows = []
    for lay in CI_LAYOUTS_LOAD:
        rates = np.array([100.0, 250.0, 400.0, 550.0])
        net = lay.delays_ms[0] + min(lay.delays_ms[1:])
        w = raft.write_load(rates, lay.n, net + 2.0, batch=1, per_append_ms=1.1, per_follower_ms=0.0,
                             per_proposal_ms=0.0)
        rows.append(pd.DataFrame({"layout": lay.name, "n": lay.n, "mode": "open", "offered": rates,
                                  "arrival_rate_per_s": rates, "throughput_per_s": rates,
                                  "p50_ms": w.p50_ms, "p99_ms": w.p99_ms}))
    fit, table = curve_comparison(pd.concat(rows), CI_LAYOUTS_LOAD, CI_LAYOUTS_LOAD[0].name, model="fixed", batches=(1, 2),
                                  per_follower_ms=0.0)
    assert fit.batch == 1 and fit.per_append_ms == pytest.approx(1.1, rel=1e-4)
    other = table[~table.calibration]
    assert len(other) == 4 and other.within_15pct.all()


@pytest.mark.etcd
def test_ci_load_curve_prediction_band_or_stated_skip():
    if not etcd_available():
        if os.environ.get("CI"):
            pytest.fail("CI is set but the etcd binary is missing (apt-get install etcd-server etcd-client)")
        pytest.skip("etcd binary not installed")
    res = ci_check()
    print(res["reason"])
    if res["table"] is not None:
        print(res["table"][["layout", "offered", "throughput_per_s", "p50_ms", "predicted_p50_ms", "p99_ms",
                            "predicted_p99_ms"]].round(2).to_string())
    s = res["summary"]
    assert (s.errors == 0).all() and (s.completed > 0).all()        # the run itself worked at any load
    assert {"loadavg_1m", "cpus", "utc"} <= set(s.columns)
    if res["verdict"] == "skipped":
        pytest.skip(res["reason"])
    assert res["verdict"] == "pass", res["reason"]
