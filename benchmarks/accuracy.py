"""The accuracy table: every formula against the project's simulators and exact laws.

    python benchmarks/accuracy.py                # full size -> docs/accuracy.md (make accuracy)
    python benchmarks/accuracy.py --smoke        # tiny sizes, table on stdout (what the test runs)
    python benchmarks/accuracy.py queueing mg1   # only accuracy_queueing.py and accuracy_mg1.py

Each ``benchmarks/accuracy_*.py`` module defines ``rows(smoke: bool) -> list[dict]``; a row has

* ``formula`` (the function, and the method where it chooses one), ``regime`` (the part of
  the parameter space), ``metric`` (e.g. ``p99_wait``);
* ``worst_rel_error``, ``median_rel_error`` over ``n_points`` grid points, and
  ``reference`` (what the formula was compared with: a simulator and its run length, an exact
  law);
* optionally ``bound`` (the relative error the code or its docstring claims there; the test
  ``tests/test_accuracy_smoke.py`` fails if ``worst_rel_error > bound + noise``) and ``noise``
  (the reference's own uncertainty, e.g. 3 standard errors relative; 0 if exact).

The full run can take long (long simulations; modules may cache their reference runs under
``benchmarks/.cache/``, never committed).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.util
import math
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
KEYS = ("formula", "regime", "metric", "worst_rel_error", "median_rel_error", "n_points", "reference")


def _load(path: Path):
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def modules(only=()):
    """The accuracy modules (name -> module), sorted by name."""
    files = sorted(HERE.glob("accuracy_*.py"))
    if only:
        files = [f for f in files if f.stem.removeprefix("accuracy_") in only]
    return {f.stem.removeprefix("accuracy_"): _load(f) for f in files}


def check_row(row: dict) -> None:
    """Raise ValueError if a row lacks a key or has a non-number where a number belongs."""
    missing = [k for k in KEYS if k not in row]
    if missing:
        raise ValueError(f"accuracy row lacks {missing}: {row!r}")
    for k in ("worst_rel_error", "median_rel_error"):
        if not isinstance(row[k], (int, float)) or math.isnan(row[k]):
            raise ValueError(f"{k} must be a number; got {row[k]!r} in {row!r}")


def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, float):
        return f"{100 * x:.1f} %" if x < 10 else f"{x:.0f}×"
    return str(x)


def markdown(all_rows: dict, command: str, seconds: float) -> str:
    """The table as markdown, with the command and date that produced it."""
    date = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Accuracy of followerlab's formulas",
        "",
        f"Produced by `{command}` on {date} ({seconds:.0f} s). Do not edit by hand: rerun it "
        "(`make accuracy`).",
        "",
        "Relative errors of each formula against the reference named in the row (a long seeded "
        "simulation by the project's simulators, or an exact law), worst and median over the "
        "grid points of the regime. *bound* is what the code claims there (— if it claims "
        "nothing); *noise* is the reference's own uncertainty (3 standard errors, relative): an "
        "error below it cannot be told from noise. Each module's docstring "
        "(`benchmarks/accuracy_*.py`) defines its grid and error measure. Errors of 10 (1000 %) or "
        "more are shown as multiples (11× = 1100 %).",
        "",
    ]
    for name, rows in all_rows.items():
        lines += [f"## {name}", "", "| formula | regime | metric | worst | median | points | bound | noise | reference |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            lines.append("| " + " | ".join([
                str(r["formula"]), str(r["regime"]), str(r["metric"]), _fmt(float(r["worst_rel_error"])),
                _fmt(float(r["median_rel_error"])), str(r["n_points"]), _fmt(r.get("bound")),
                _fmt(r.get("noise")), str(r["reference"])]) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="module names (accuracy_<name>.py); default all")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes; print instead of writing docs")
    parser.add_argument("--out", help="write the markdown here (default docs/accuracy.md at full size)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    all_rows = {}
    for name, module in modules(args.only).items():
        rows = module.rows(args.smoke)
        for r in rows:
            check_row(r)
        all_rows[name] = rows
        print(f"{name}: {len(rows)} rows ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    command = "python benchmarks/accuracy.py" + (" --smoke" if args.smoke else "") + (
        " " + " ".join(args.only) if args.only else "")
    text = markdown(all_rows, command, time.perf_counter() - t0)
    out = args.out or (None if args.smoke else str(ROOT / "docs" / "accuracy.md"))
    if out:
        Path(out).write_text(text + "\n")
        print(f"wrote {out}", file=sys.stderr)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
