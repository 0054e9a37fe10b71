"""The examples in the guide pages (docs/guide/*.rst) run and print what the pages say.

Each page's ``>>>`` blocks are run with :func:`doctest.testfile` (the options of pyproject's
doctest settings that plain doctest knows: ELLIPSIS, NORMALIZE_WHITESPACE) from the repository
root, so ``make test`` keeps the guide true. The numbers the pages print were checked against
closed forms or independent Monte Carlo runs, as the text beside each example says.
"""

import doctest
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = sorted((ROOT / "docs" / "guide").glob("*.rst"))


def test_every_guide_page_is_found():
    assert {p.stem for p in GUIDE} >= {"follower", "consistency", "raft", "toolkits", "validation", "batch"}


@pytest.mark.parametrize("page", GUIDE, ids=[p.stem for p in GUIDE])
def test_guide_examples_run(page, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = doctest.testfile(str(page), module_relative=False, encoding="utf-8", report=True,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{page.name} has no >>> example"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {page.name} failed (output above)"
