"""Run the full bad-input sweep over every public function and print the counts.

    python tools/bad_input_sweep.py            # counts per status and the calls that are not clean
    python tools/bad_input_sweep.py --all      # also list the calls refused cleanly / accepted
    python tools/bad_input_sweep.py -k raft    # only the cases whose name contains "raft"

Statuses (see tests/_bad_input.py): refused (ValueError/TypeError naming the argument), accepted
(a clean result), unnamed (ValueError/TypeError not naming it), traceback (any other exception,
from the call or from probing its result), garbage (NaN or a wrapped integer returned), timeout.
Exit status 1 when any call is not clean.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import _bad_input as bi  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", default="", help="only cases whose name contains this")
    ap.add_argument("--all", action="store_true", help="list every call, not only the unclean ones")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    cases = [c for c in bi.cases() if args.k in c.name]
    missing = sorted(set(bi.public_functions()) - {c.name for c in bi.cases()} - set(bi.NOT_SWEPT))
    outcomes = []
    for case in cases:
        outcomes += bi.sweep_case(case)
    counts = bi.summarize(outcomes)
    bad = [o for o in outcomes if o.status not in ("refused", "accepted")]
    for o in (outcomes if args.all else bad):
        print(f"{o.status:9s} {o.case}({o.param}={o.value})  {o.detail}")
    by_case = Counter(o.case for o in bad)
    if by_case:
        print("\nunclean calls per function:", ", ".join(f"{k} {v}" for k, v in by_case.most_common()))
    if missing:
        print("\npublic functions without a case:", ", ".join(missing))
    print(f"\n{len(cases)} functions, {counts['tried']} calls tried: {counts['refused']} refused cleanly, "
          f"{counts['accepted']} accepted with a clean result, {counts['unnamed']} refused without naming the "
          f"argument, {counts['traceback']} tracebacks from inside the library, {counts['garbage']} NaN or "
          f"garbage returned, {counts['timeout']} timed out ({time.perf_counter() - t0:.0f} s)")
    return 1 if bad or missing else 0


if __name__ == "__main__":
    sys.exit(main())
