"""Batch runner: time per configuration, one kernel per configuration vs a list in one kernel.

Kernel start-up dominates small runs.  A ``grid:`` sweep runs one notebook (one kernel) per
point; a notebook parameter typed ``list`` evaluates all points vectorized in one kernel.  This
benchmark runs the fixture notebook ``tests/fixtures/notebooks/fx-queue.ipynb`` (an M/M/1
admin-node model, list parameter ``arrival_rates_per_s``) both ways through
:func:`followerlab.batch.run_batch` (``jobs=1``, ``force=True``, no report) and reports the
wall time per configuration.

    python benchmarks/run.py batch           # full: 6-point grid vs 6 and 1000 points in one kernel
    python benchmarks/run.py batch --smoke   # 2-point grid vs 2 points in one kernel (< 60 s)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NOTEBOOK = ROOT / "tests" / "fixtures" / "notebooks" / "fx-queue.ipynb"


def _time_batch(yaml_text: str, work: Path, name: str) -> tuple[float, int]:
    from followerlab.batch import run_batch

    scen = work / f"{name}.yaml"
    scen.write_text(yaml_text)
    t0 = time.perf_counter()
    result = run_batch(scen, work / f"out-{name}", jobs=1, force=True, progress=False, report=False)
    elapsed = time.perf_counter() - t0
    if result.n_failed:
        raise RuntimeError(f"benchmark batch {name} failed: {result.runs['error'].tolist()}")
    return elapsed, len(result.runs)


def run(smoke: bool = False) -> list[dict]:
    n_grid = 2 if smoke else 6
    sizes = [n_grid] if smoke else [n_grid, 1000]
    rows = []
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        # warm up the one-time imports (papermill, nbconvert and its templates) so the first timed
        # batch does not pay them: only kernels and per-run work are compared
        import followerlab.batch  # noqa: F401  (trims jsonschema's slow optional import first)
        import papermill  # noqa: F401
        from followerlab.report import render_notebook_html

        render_notebook_html(NOTEBOOK, work / "warm-up.html")
        rates = [round(1.0 + 15.0 * i / max(n_grid - 1, 1), 3) for i in range(n_grid)]
        grid_yaml = (f"name: grid\nnotebooks: [{NOTEBOOK}]\n"
                     f"grid:\n  arrival_rates_per_s: [{', '.join(f'[{r}]' for r in rates)}]\n")
        t_grid, runs = _time_batch(grid_yaml, work, "grid")
        per_grid = t_grid / n_grid
        rows.append({"name": f"grid: {n_grid} configurations, one kernel each ({runs} runs)",
                     "value": per_grid, "unit": "s/configuration"})
        for n in sizes:
            vec = [round(1.0 + 15.0 * i / max(n - 1, 1), 4) for i in range(n)]
            vec_yaml = (f"name: vector{n}\nnotebooks: [{NOTEBOOK}]\n"
                        f"parameters:\n  arrival_rates_per_s: [{', '.join(map(str, vec))}]\n")
            t_vec, _ = _time_batch(vec_yaml, work, f"vector{n}")
            rows.append({"name": f"list: {n} configurations vectorized in one kernel", "value": t_vec / n,
                         "unit": "s/configuration"})
            if n == n_grid:
                ratio = per_grid / (t_vec / n)
                rows.append({"name": f"speed-up of the list over the grid at {n} configurations", "value": ratio,
                             "unit": "x", "target": f">= {n_grid * 0.5:g}x (kernel start-up dominates)",
                             "ok": ratio >= n_grid * 0.5})
    return rows


if __name__ == "__main__":
    for row in run(smoke="--smoke" in sys.argv):
        print(row)
