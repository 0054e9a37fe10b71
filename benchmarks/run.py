"""Run every benchmark (benchmarks/bench_*.py) and print its figures, ratios and targets.

Each ``bench_*.py`` defines ``run(smoke: bool) -> list[dict]``; a row has ``name``, ``value``,
``unit`` and optionally ``target`` (text) and ``ok`` (bool, whether the target is met).

    python benchmarks/run.py            # full size, on a quiet machine
    python benchmarks/run.py --smoke    # tiny sizes: checks the benchmarks run (CI)
    python benchmarks/run.py queueing   # only bench_queueing.py

Targets are reported, not asserted, in smoke mode (sizes are too small to mean anything); at
full size ``--strict`` makes a missed target exit non-zero.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="benchmark names (bench_<name>.py) to run; default all")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check the benchmarks run")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed (full size)")
    args = parser.parse_args(argv)

    files = sorted(HERE.glob("bench_*.py"))
    if args.only:
        files = [f for f in files if f.stem.removeprefix("bench_") in args.only]
        if not files:
            parser.error(f"no benchmark named {args.only}")
    print(f"# followerlab benchmarks ({'smoke' if args.smoke else 'full'}) on {platform.node()}, "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}")
    missed = 0
    for f in files:
        module = _load(f)
        print(f"\n## {f.stem.removeprefix('bench_')}")
        for row in module.run(smoke=args.smoke):
            value = row["value"]
            shown = f"{value:,.4g}" if isinstance(value, (int, float)) else str(value)
            line = f"  {row['name']:<58} {shown:>14} {row.get('unit', '')}"
            if "target" in row:
                status = "ok" if row.get("ok") else ("missed" if not args.smoke else "n/a in smoke")
                line += f"   target {row['target']}: {status}"
                missed += (row.get("ok") is False) and not args.smoke
            print(line)
    if args.strict and missed:
        print(f"\n{missed} target(s) missed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
