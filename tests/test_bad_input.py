"""Bad input to every public function: a ValueError/TypeError naming the argument, or a clean result.

The sweep itself (cases, bad values, classification) is in ``tests/_bad_input.py``;
``tools/bad_input_sweep.py`` runs all of it and prints the counts.  Here every public function
of the swept modules must have a case, and each case is run on a seeded sample of its bad calls
(every call, except a seeded sample for the few slow functions of ``QUICK_LIMITS``, so the file
takes well under a minute); the exhaustive sweep of those too is the ``slow`` test at the end.

A call is clean when it is refused with a ValueError or TypeError whose message names the
argument (both arguments for a shape mismatch), or when it returns a result without NaN,
wrapped integers or failing ``mean()`` / ``ppf()`` / ``quantile()`` / ``to_frame()``.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import _bad_input as bi

#: functions whose sweep still finds unclean calls, with what is left (issue 14, part 7).
KNOWN_UNCLEAN: dict[str, str] = {}

CASES = bi.cases()


def _describe(outcomes):
    return "\n".join(f"{o.status}: {o.case}({o.param}={o.value}) {o.detail}" for o in outcomes)


def test_every_public_function_has_a_case():
    public = set(bi.public_functions())
    cased = {c.name for c in CASES}
    assert not public - cased - set(bi.NOT_SWEPT), "public functions without a bad-input case"
    assert not cased - public, "cases for functions that are not public"
    assert not set(bi.NOT_SWEPT) & cased


def test_the_classifier_catches_what_it_must():
    """The sweep cannot pass vacuously: NaN, wrapped integers, unnamed errors and tracebacks are caught."""
    def nan_result(x):
        return np.array([x, np.nan])

    def wrapped(x):
        return np.array([x], dtype=float).astype(np.int64) if x > 1e100 else np.array([1])

    def unnamed(x):
        raise ValueError("arg 0 and arg 1 do not broadcast")

    def crash(x):
        return None.attribute

    for func, status in ((nan_result, "garbage"), (wrapped, "garbage"), (unnamed, "unnamed"), (crash, "traceback")):
        case = bi.Case(f"t.{func.__name__}", func, {"x": 1.0})
        got = bi.run_call(case, {"x": 1e300}, [["x"]], set())
        assert got.status == status, (func.__name__, got)
    ok = bi.Case("t.ok", lambda x: float(np.asarray(x, dtype=float)), {"x": 1.0})
    assert bi.run_call(ok, {"x": 2.0}, [["x"]], set()).status == "accepted"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_refused_by_name_or_clean(case):
    if case.name in KNOWN_UNCLEAN:
        pytest.xfail(KNOWN_UNCLEAN[case.name])
    rng = np.random.default_rng(zlib.crc32(case.name.encode()))
    outcomes = bi.sweep_case(case, limit=case.quick, rng=rng)
    bad = [o for o in outcomes if o.status not in ("refused", "accepted")]
    assert not bad, _describe(bad)


@pytest.mark.slow
def test_exhaustive_sweep():
    outcomes = []
    for case in CASES:
        if case.quick is not None and case.name not in KNOWN_UNCLEAN:
            outcomes += bi.sweep_case(case)
    bad = [o for o in outcomes if o.status not in ("refused", "accepted")]
    assert not bad, _describe(bad[:50])
