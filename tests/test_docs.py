"""The Sphinx site (``make docs``) builds: no errors, every API module imports, formulas render offline.

Sphinx is in the ``docs`` extra, not the ``test`` extra, so this skips when it is missing. The site
is built once per module (about 15-45 s) into a temporary directory, never docs/_build.

Formulas are typeset by MathJax 3 served from the built site (``_static/mathjax``, put there by the
``sphinx-mathjax-offline`` extension), not from a CDN: one test checks the HTML, and a browser test
opens the API page in headless Chromium with the network emulated offline and checks that every
formula was typeset.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

pytestmark = pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in ("sphinx", "numpydoc", "sphinx-mathjax-offline")),
    reason="sphinx/numpydoc/sphinx-mathjax-offline not installed: they are in the docs extra "
           "(pip install -e '.[docs]' or make docs)",
)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build the site once: (output directory, build log)."""
    tmp = tmp_path_factory.mktemp("docs")
    out = tmp / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-d", str(tmp / "doctrees"), str(DOCS), str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    return out, log


def test_docs_build_without_errors(built):
    out, log = built
    errors = [line for line in log.splitlines() if re.search(r"\b(ERROR|CRITICAL)\b", line)]
    assert not errors, "\n".join(errors)
    # autodoc reports a module it cannot import as a warning and renders nothing for it.
    failed_imports = [line for line in log.splitlines() if "failed to import" in line]
    assert not failed_imports, "\n".join(failed_imports)
    # make docs stays warning-free (a warning is usually a broken cross-reference or docstring markup).
    warnings = [line for line in log.splitlines() if "WARNING" in line]
    assert not warnings, "\n".join(warnings)

    api = (out / "api.html").read_text()
    for module in ["queueing", "latency", "staleness", "follower", "consistency", "raft", "sim.queue",
                   "sim.follower", "sim.consistency", "sim.raft", "scenarios", "batch", "results_io",
                   "validation.cluster", "validation.client", "validation.predict", "validation.experiments",
                   "validation.proxy", "explore", "plots"]:
        assert f'id="module-followerlab.{module}"' in api, f"followerlab.{module} missing from api.html"
    assert 'id="followerlab.raft.commit_latency"' in api
    for page in ["index.html", "guide/follower.html", "guide/consistency.html", "guide/raft.html"]:
        assert (out / page).is_file(), page


MATHJAX_SCRIPT = re.compile(r'<script[^>]*\bsrc="([^"]*(?:mathjax|katex)[^"]*)"', re.IGNORECASE)


def test_math_is_served_from_the_site_not_a_cdn(built):
    out, _ = built
    for page in ["api.html", "guide/follower.html", "guide/consistency.html"]:
        html = (out / page).read_text()
        assert 'class="math' in html, f"{page} has no formula to render"
        scripts = MATHJAX_SCRIPT.findall(html)
        assert scripts, f"{page} loads no MathJax script"
        for src in scripts:
            assert "://" not in src and not src.startswith("//"), f"{page} loads MathJax from the network: {src}"
            assert (out / page).parent.joinpath(src).resolve().is_file(), f"{page}: {src} is not in the build"
    # tex-chtml.js loads its fonts (and TeX extensions on demand) relative to itself.
    assert list((out / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))


def _browser_missing() -> list[str]:
    return [name for name in ("chromium", "chromedriver") if not (shutil.which(name) or shutil.which(f"{name}-browser"))]


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_formulas_are_typeset_offline_in_chromium(built):
    """The API page in headless Chromium, network emulated offline: every formula typeset by MathJax."""
    if _browser_missing():
        if os.environ.get("CI"):
            pytest.fail(f"{' and '.join(_browser_missing())} not installed (apt-get install -y chromium chromium-driver)")
        pytest.skip(f"{' and '.join(_browser_missing())} not installed (apt-get install -y chromium chromium-driver)")
    spec = importlib.util.spec_from_file_location("followerlab_screenshot", ROOT / "tests" / "browser" / "screenshot.py")
    screenshot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(screenshot)
    out, _ = built
    with screenshot.chromium(width=1400, height=1000) as driver:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0})
        driver.set_page_load_timeout(60)
        driver.set_script_timeout(60)
        driver.get((out / "api.html").as_uri())
        status = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "if (!(window.MathJax && MathJax.startup)) { done('MathJax did not load'); return; }"
            "MathJax.startup.promise.then(() => done('typeset'), e => done('MathJax failed: ' + e));"
        )
        assert status == "typeset"
        spans = driver.execute_script("return document.querySelectorAll('.math').length")
        untypeset = driver.execute_script(
            "return Array.from(document.querySelectorAll('.math'))"
            ".filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 60))"
        )
        errors = driver.execute_script("return document.querySelectorAll('mjx-merror').length")
    assert spans > 50
    assert untypeset == [], f"{len(untypeset)} of {spans} formulas left as TeX: {untypeset[:5]}"
    assert errors == 0, f"{errors} formulas rendered as MathJax errors"
