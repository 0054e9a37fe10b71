"""Structure of notebooks/02-admin-node-load.ipynb (fast: no kernel; nbval runs it)."""

from pathlib import Path

import nbformat

from followerlab.scenarios import notebook_parameters

NB = Path(__file__).resolve().parent.parent / "notebooks" / "02-admin-node-load.ipynb"


def test_parameters_follow_the_convention():
    specs = {s.name: s for s in notebook_parameters(NB)}
    assert "output_dir" in specs
    for s in specs.values():
        if s.type in ("float", "int", "list"):
            assert s.lower is not None and s.upper is not None, f"{s.name} has no range comment"
    assert specs["refresh_period_s"].lower == 30 and specs["refresh_period_s"].upper == 1800  # policy range
    assert specs["query_rates_per_s"].type == "list"
    assert specs["nodes"].default == 15 and specs["hot_database_share"].default == 0.7


def test_seed_examples_and_checked_outputs_are_there():
    nb = nbformat.read(NB, as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    assert "ago(7d)" in text and "ago(5m)" in text          # the seed's two example queries
    assert "70%" in text                                    # the seed's skew example
    checked = [c for c in nb.cells if c.cell_type == "code" and "NBVAL_CHECK_OUTPUT" in c.source]
    assert len(checked) >= 5 and all(c.outputs for c in checked)
    assert "write_results" in text and "admin_utilization" in text
