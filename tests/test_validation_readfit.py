"""Issue 15 part 3: linearizable reads in ReadIndex rounds, fitted on one layout and predicted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from followerlab import raft
from followerlab.validation.load import StubServer, load_summary, open_loop
from followerlab.validation.predict import Layout
from followerlab.validation.readfit import fit_read_rounds, predict_read_curve, read_curve_table


def _curve(rates, net, c, r, name="a"):
    m = raft.readindex_read_load(rates, net + r, c)
    return pd.DataFrame({"layout": name, "offered": rates, "network_ms": net, "p50_ms": m.p50_ms,
                         "p99_ms": m.p99_ms, "saturated": False})


@pytest.mark.parametrize("c, r", [(3.0, 2.0), (0.4, 6.5), (9.0, 0.05)])
def test_fit_recovers_the_split_and_predicts_other_layouts_exactly(c, r):
    rates = np.array([5.0, 20.0, 60.0, 150.0, 400.0, 1200.0])
    fit = fit_read_rounds(_curve(rates, 10.0, c, r))
    assert fit.overhead_ms == pytest.approx(c, abs=1e-6) and fit.round_local_ms == pytest.approx(r, abs=1e-6)
    other = pd.concat([_curve(rates, 15.0, c, r, "b"), _curve(rates, 50.0, c, r, "c")])
    t = predict_read_curve(fit, other)
    assert t.within_band.all() and np.abs(t.error_p99).max() < 1e-6
    # the one-round prediction is right at light load and misses by up to half a round at 1200/s
    assert abs(t.error_p50_one_round.iloc[0]) < 1e-9
    heavy = t[t.offered == 1200.0]
    np.testing.assert_allclose(heavy.p50_ms / heavy.one_round_ms - 1,
                               0.5 * (heavy.network_ms + r) / (c + heavy.network_ms + r), rtol=1e-3)


def test_saturated_rows_are_left_out_and_judged_outside_the_band():
    rates = np.array([5.0, 50.0, 500.0])
    cur = _curve(rates, 10.0, 2.0, 1.0)
    cur.loc[2, "p50_ms"] = 900.0
    cur["saturated"] = [False, False, True]
    fit = fit_read_rounds(cur)
    assert fit.rows == 2 and fit.overhead_ms + fit.round_local_ms == pytest.approx(3.0, abs=1e-6)
    assert predict_read_curve(fit, cur).within_band.tolist() == [True, True, False]


def test_bad_input_names_the_problem():
    with pytest.raises(ValueError, match="columns"):
        fit_read_rounds(pd.DataFrame({"offered": [1.0]}))
    cur = _curve(np.array([5.0, 50.0]), 10.0, 2.0, 1.0)
    with pytest.raises(ValueError, match="at least 2 unsaturated"):
        fit_read_rounds(cur.assign(saturated=[True, False]))
    with pytest.raises(ValueError, match="p50_ms"):
        fit_read_rounds(cur.assign(p50_ms=[0.0, 3.0]))
    with pytest.raises(ValueError, match="'op' column"):
        read_curve_table(cur.assign(mode="open", n=3, throughput_per_s=5.0), [Layout("a", (5.0, 5.0, 5.0))])
    with pytest.raises(ValueError, match="band"):
        predict_read_curve(fit_read_rounds(cur), cur, band=0.0)


def test_read_curve_table_takes_the_read_rows_and_the_readindex_network_part():
    s = pd.DataFrame({"mode": "open", "op": ["read", "read", "put"], "layout": ["w", "w", "w"], "n": 3,
                      "offered": [100.0, 2000.0, 100.0], "arrival_rate_per_s": [100.0, 2000.0, 100.0],
                      "throughput_per_s": [99.0, 1500.0, 99.0], "p50_ms": 1.0, "p99_ms": 2.0})
    t = read_curve_table(s, [Layout("w", (20.0, 30.0, 40.0))])
    assert t.network_ms.tolist() == [50.0, 50.0] and t.saturated.tolist() == [False, True]


def test_open_loop_reads_on_the_stub():
    with StubServer() as stub:
        s = open_loop(stub.port, 200.0, count=10**4, max_time_s=1.0, workers=8, seed=2, op="read")
    summ = load_summary(s)
    assert summ["errors"] == 0 and summ["completed"] == s.scheduled_s.size > 100
    with pytest.raises(ValueError, match="op must be one of"):
        open_loop(1, 10.0, op="delete")


def test_read_curves_and_saturation_runs_repeat_on_fresh_clusters_and_save(fake_etcd, tmp_path):
    import json

    from followerlab.validation import load_experiments as lx

    made, points = fake_etcd
    out = lx.run_read_curves(rates=(10.0, 20.0), seconds=0.1, repeats=2, save=True, directory=tmp_path, progress=None)
    assert made == [3, 3, 3] * 2                                   # a fresh cluster per layout and repeat
    assert out.rep.tolist() == [0] * 6 + [1] * 6 and set(out.op) == {"read"}
    assert {op for _, _, op in points} == {"read"}
    meta = json.loads(next(tmp_path.glob("etcd-read-load-*.json")).read_text())
    assert "op='read'" in meta["experiment"] and "2 times" in meta["experiment"]
    made.clear()
    points.clear()
    sat = lx.run_saturation(lx.LOAD_LAYOUTS[3:], rates=(10.0,), seconds=0.1, repeats=1, progress=None)
    assert made == [5, 5] and "op" not in sat.columns and {op for _, _, op in points} == {"put"}
    with pytest.raises(ValueError, match="repeats must be a whole number"):
        lx.run_read_curves(repeats=1.5)
    with pytest.raises(ValueError, match="layouts must name at least one layout"):
        lx.run_saturation([])


def test_read_comparison_takes_medians_of_the_repeats():
    from followerlab.validation import load_experiments as lx

    rates = np.array([10.0, 40.0, 160.0, 640.0])
    rows = []
    for lay in lx.READ_LAYOUTS:
        net = float(read_curve_table(pd.DataFrame({"mode": "open", "op": "read", "layout": lay.name, "n": 3,
                                                   "offered": [1.0], "throughput_per_s": 1.0, "p50_ms": 1.0,
                                                   "p99_ms": 1.0}), [lay]).network_ms.iloc[0])
        m = raft.readindex_read_load(rates, net + 1.5, 2.5)
        for rep, scale in ((0, 1.0), (1, 1.3), (2, 0.9)):      # median = the model's values
            rows.append(pd.DataFrame({"rep": rep, "layout": lay.name, "n": 3, "workers": 256, "mode": "open",
                                      "op": "read", "offered": rates, "throughput_per_s": rates,
                                      "p50_ms": m.p50_ms * scale, "p99_ms": m.p99_ms * scale}))
    fit, tab = lx.read_comparison(pd.concat(rows))
    assert fit.overhead_ms == pytest.approx(2.5, abs=1e-5) and fit.round_local_ms == pytest.approx(1.5, abs=1e-5)
    assert tab.within_band.all() and (tab.repeats == 3).all()
    assert tab.calibration.tolist() == [True] * 4 + [False] * 8
    with pytest.raises(ValueError, match="calibration layout 'nope'"):
        lx.read_comparison(pd.concat(rows), calibration="nope")


def test_saved_read_run_rounds_predict_two_other_layouts_up_to_400_per_s():
    """Run 2026-12-03T2124Z (quiet machine): calibrated on load-sym-3, every load-asym-3 and
    load-wan-3 point up to 400 reads/s is in the 15 % band, where one round per read misses the
    p50 by up to 79 %; at 800-1600/s the per-read work the model leaves out lifts the latency."""
    from pathlib import Path

    from followerlab.validation import load_experiments as lx

    d = pd.read_csv(Path(__file__).parents[1] / "data" / "measurements" / "etcd-read-load-2026-12-03T2124Z.csv")
    fit, t = lx.read_comparison(d)
    assert fit.round_local_ms == pytest.approx(3.29, abs=0.01) and fit.overhead_ms < 0.01
    light = t[~t.calibration & (t.offered <= 400)]
    assert len(light) == 12 and light.within_band.all()
    assert t[~t.calibration].groupby("layout").within_band.sum().to_dict() == {"load-asym-3": 6, "load-wan-3": 7}
    heavy = t[t.offered == 1600]
    assert (heavy.error_p50 > 0).all() and (heavy.busy_share > 0.999).all()
    assert t.error_p50_one_round.max() == pytest.approx(0.79, abs=0.01)
