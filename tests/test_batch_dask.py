"""The --scheduler path: the same runs on a Dask distributed LocalCluster on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from followerlab.batch import run_batch

FIX = Path(__file__).resolve().parent / "fixtures"


def test_batch_on_a_local_dask_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    scen = tmp_path / "s.yaml"
    scen.write_text(f"scenarios:\n"
                    f"  - name: ok\n    notebooks: [{FIX / 'notebooks' / 'fx-refresh-lag.ipynb'}]\n"
                    f"    parameters: {{refresh_period_s: 10}}\n"
                    f"  - name: bad\n    notebooks: [{FIX / 'notebooks' / 'fx-refresh-lag.ipynb'}]\n"
                    f"    parameters: {{fail: true}}\n")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1",
                                  dashboard_address=None, silence_logs=40) as cluster:
        result = run_batch(scen, tmp_path / "out", scheduler=cluster.scheduler_address, progress=False,
                           report=False)
        with distributed.Client(cluster.scheduler_address) as client:
            worker_pids = set(client.run(lambda: __import__("os").getpid()).values())
    assert dict(zip(result.runs["run_id"], result.runs["status"])) == {"ok--fx-refresh-lag": "ok",
                                                                      "bad--fx-refresh-lag": "failed"}
    assert result.exit_status == 1
    value = result.table.loc[result.table.metric == "staleness_mean_s", "value"].item()
    assert value == pytest.approx(10 / 2 + 2)
    rec = json.loads((tmp_path / "out" / "runs" / "ok--fx-refresh-lag" / "run.json").read_text())
    assert rec["status"] == "ok" and worker_pids
    assert (tmp_path / "out" / "runs" / "bad--fx-refresh-lag" / "notebook.ipynb").exists()
