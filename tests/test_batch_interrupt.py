"""Ctrl-C during a parallel batch stops it: queued runs are cancelled, not run to the end."""

from __future__ import annotations

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
