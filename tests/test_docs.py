"""The Sphinx site (``make docs``) builds: no errors, every API module imports.

Sphinx is in the ``docs`` extra, not the ``test`` extra, so this skips when it is missing. A full
build of the small site takes about 15 s; it goes to a temporary directory, never docs/_build.
"""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("sphinx") is None or importlib.util.find_spec("numpydoc") is None,
    reason="sphinx/numpydoc not installed: they are in the docs extra (pip install -e '.[docs]' or make docs)",
)


def test_docs_build_without_errors(tmp_path):
    out = tmp_path / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-d", str(tmp_path / "doctrees"), str(DOCS), str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    errors = [line for line in log.splitlines() if re.search(r"\b(ERROR|CRITICAL)\b", line)]
    assert not errors, "\n".join(errors)
    # autodoc reports a module it cannot import as a warning and renders nothing for it.
    failed_imports = [line for line in log.splitlines() if "failed to import" in line]
    assert not failed_imports, "\n".join(failed_imports)
    if log.strip():
        print(log)  # remaining warnings, visible with -s

    api = (out / "api.html").read_text()
    for module in ["queueing", "latency", "staleness", "follower", "consistency", "raft", "sim.queue",
                   "sim.follower", "sim.consistency", "sim.raft", "scenarios", "batch", "results_io",
                   "validation.cluster", "validation.client", "validation.predict", "validation.experiments",
                   "validation.proxy", "explore", "plots"]:
        assert f'id="module-followerlab.{module}"' in api, f"followerlab.{module} missing from api.html"
    assert 'id="followerlab.raft.commit_latency"' in api
    for page in ["index.html", "guide/follower.html", "guide/consistency.html", "guide/raft.html"]:
        assert (out / page).is_file(), page
