"""The accuracy table's smoke version: every benchmarks/accuracy_*.py module runs, its rows are
well formed, and every error stays within the bound its row states (plus the reference's own
noise).  The full table is docs/accuracy.md (``make accuracy``)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("accuracy", ROOT / "benchmarks" / "accuracy.py")
accuracy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(accuracy)

NAMES = sorted(p.stem.removeprefix("accuracy_") for p in (ROOT / "benchmarks").glob("accuracy_*.py"))


def test_there_are_accuracy_modules_and_docs_link():
    assert "queueing" in NAMES
    assert "docs/accuracy.md" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("name", NAMES)
def test_smoke_rows_within_their_stated_bounds(name):
    module = accuracy.modules([name])[name]
    rows = module.rows(True)
    assert rows, f"accuracy_{name}.py returned no rows"
    bad = []
    for r in rows:
        accuracy.check_row(r)
        bound = r.get("bound")
        if bound is None or (isinstance(bound, float) and math.isnan(bound)):
            continue
        allowed = float(bound) + float(r.get("noise", 0.0) or 0.0)
        if r["worst_rel_error"] > allowed:
            bad.append(f"{r['formula']} | {r['regime']} | {r['metric']}: {r['worst_rel_error']:.3g} > "
                       f"{bound:.3g} + noise {r.get('noise', 0.0):.3g}")
    assert not bad, "\n".join(bad)


def test_markdown_has_command_date_and_rows():
    rows = [dict(formula="f", regime="r", metric="m", worst_rel_error=0.01, median_rel_error=0.005, n_points=3,
                 reference="exact", bound=0.02, noise=0.0)]
    text = accuracy.markdown({"demo": rows}, "python benchmarks/accuracy.py", 1.0)
    assert "`python benchmarks/accuracy.py`" in text and "UTC" in text
    assert "| f | r | m | 1.0 % | 0.5 % | 3 | 2.0 % | 0.0 % | exact |" in text
    with pytest.raises(ValueError, match="lacks"):
        accuracy.check_row({"formula": "f"})
