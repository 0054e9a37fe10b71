"""Generate data/follower/follower-lag-example.csv: a synthetic run of the lag query of [Leibowitz2021].

"Follower clusters in Kusto" ([Leibowitz2021] in docs/references.rst, FAQ 1) measures follower
lag by asking both clusters for ``max(ingestion_time())``.  No real measurement is published, so this file is
*generated* by the event-driven simulation ``followerlab.sim.follower`` with *assumed* sync
parameters, to exercise ``followerlab.follower.estimate_lag`` and ``fit_sync_model``:

* sync period P = 60 s, d0 = 3 s, d1 = 0.02 s per extent;
* two 8-hour phases with the leader creating 1 and then 5 extents per second;
* 400 probes per phase at uniformly random times, both clusters queried at the same instant.

Columns: ``probe_time`` (UTC, ISO 8601), ``cluster_url``, ``max_ingestion_time`` (UTC, ISO
8601, ms), ``change_rate_per_s`` (the leader's extent creation rate in that phase, known to
the operator).  Regenerate with ``.venv/bin/python data/follower/generate_example.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from followerlab.sim.follower import simulate_follower

HERE = Path(__file__).resolve().parent
PARAMS = {"period_s": 60.0, "base_duration_s": 3.0, "duration_per_change_s": 0.02,
          "phases": [{"change_rate_per_s": 1.0, "hours": 8}, {"change_rate_per_s": 5.0, "hours": 8}],
          "probes_per_phase": 400, "seed": 20260105,
          "leader_url": "https://leader.westus.kusto.windows.net",
          "follower_url": "https://follower.westus.kusto.windows.net"}
START = pd.Timestamp("2026-01-05T00:00:00Z")


def main() -> None:
    rng = np.random.default_rng(PARAMS["seed"])
    rows = []
    offset = 0.0
    for phase in PARAMS["phases"]:
        horizon = phase["hours"] * 3600.0
        sim = simulate_follower(PARAMS["period_s"], PARAMS["base_duration_s"], PARAMS["duration_per_change_s"],
                                phase["change_rate_per_s"], horizon_s=horizon, seed=rng)
        t = np.sort(rng.uniform(600.0, horizon - 600.0, PARAMS["probes_per_phase"]))
        for role in ("leader", "follower"):
            mx = sim.max_ingestion_time_s(t, role)
            for ti, mi in zip(t, mx):
                rows.append({"probe_time": START + pd.to_timedelta(round(offset + ti, 3), unit="s"),
                             "cluster_url": PARAMS[f"{role}_url"],
                             "max_ingestion_time": START + pd.to_timedelta(round(offset + mi, 3), unit="s"),
                             "change_rate_per_s": phase["change_rate_per_s"]})
        offset += horizon
    frame = pd.DataFrame(rows).sort_values(["probe_time", "cluster_url"], kind="stable")
    for col in ("probe_time", "max_ingestion_time"):
        frame[col] = frame[col].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ").str.replace(r"(\.\d{3})\d{3}Z", r"\1Z", regex=True)
    frame.to_csv(HERE / "follower-lag-example.csv", index=False)
    (HERE / "follower-lag-example.json").write_text(json.dumps(PARAMS, indent=2) + "\n")


if __name__ == "__main__":
    main()
