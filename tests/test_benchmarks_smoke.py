"""The benchmarks run (tiny sizes): CI's smoke mode. Speed targets are checked by hand at full size."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmarks_run_in_smoke_mode():
    benches = sorted((ROOT / "benchmarks").glob("bench_*.py"))
    assert benches, "no benchmarks/bench_*.py found"
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    for bench in benches:
        assert f"## {bench.stem.removeprefix('bench_')}" in out.stdout
