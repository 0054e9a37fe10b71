"""The real JupyterLab check: every notebook, opened in headless Chromium, runs clean.

A ``jupyter lab`` server is started on a free loopback port with a random token, serving a
temporary copy of ``notebooks/``. Headless Chromium (Debian's ``chromium`` driven by Selenium
through ``/usr/bin/chromedriver``) opens each notebook, runs all cells through JupyterLab's own
``notebook:run-all-cells`` command, waits (bounded) until the kernel is idle, and checks in the
notebook model that every code cell ran and none produced an error output, and in the page that
the figures were drawn (``<img>`` elements that loaded) and, for the explorer, that the widgets
rendered. A screenshot of each notebook goes to ``reports/screenshots/<notebook>.png``.

The server and the browser are stopped whatever happens. Without chromium/chromedriver the test
skips and says why, except when the environment variable ``CI`` is set: then it fails.

    apt-get install -y chromium chromium-driver
    .venv/bin/python -m pytest -q -m browser tests/browser
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SCREENSHOTS = ROOT / "reports" / "screenshots"
_spec = importlib.util.spec_from_file_location("followerlab_screenshot", Path(__file__).with_name("screenshot.py"))
chrome = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(chrome)  # one definition of how Chromium starts (flags, driver, profile)
SERVER_START_S = 90  # bounded waits (2 shared cores: be generous, never unbounded)
PAGE_LOAD_S = 90
RUN_ALL_S = 120
WINDOW = (1400, 1600)


def _require_browser() -> None:
    missing = chrome.missing()
    if missing:
        reason = f"{' and '.join(missing)} not installed (apt-get install -y chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {reason}")
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server's process group (it started its own session): TERM, then KILL."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server over a temporary copy of the notebooks: yields (base_url, token)."""
    _require_browser()
    if not NOTEBOOKS:
        pytest.fail("no notebooks/*.ipynb to open")
    work = tmp_path_factory.mktemp("lab")
    root = work / "notebooks"
    root.mkdir()
    for nb in NOTEBOOKS:
        shutil.copy2(nb, root / nb.name)
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # conftest sets Agg; the kernel must use the inline backend
    env.update(
        JUPYTER_CONFIG_DIR=str(work / "config"),
        JUPYTER_RUNTIME_DIR=str(work / "runtime"),
        JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"),
        JUPYTERLAB_SETTINGS_DIR=str(work / "settings"),
    )
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run commands, read models
        "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",  # no PyPI queries from the extension manager
    ]
    if os.geteuid() == 0:  # CI containers run as root
        cmd.append("--allow-root")
    # No "get Jupyter news?" toast over the screenshots.
    notification = work / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    log = (work / "server.log").open("w")
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{(work / 'server.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as r:
                    json.load(r)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer within {SERVER_START_S} s")
                time.sleep(0.5)
        yield base, token
    finally:
        _stop(proc)
        log.close()


@pytest.fixture(scope="module")
def browser(lab, tmp_path_factory):
    """Headless Chromium (fresh profile) on one JupyterLab page, quit whatever happens."""
    with chrome.chromium(width=WINDOW[0], height=WINDOW[1], profile_dir=tmp_path_factory.mktemp("chromium")) as driver:
        driver.set_page_load_timeout(PAGE_LOAD_S)
        driver.set_script_timeout(RUN_ALL_S)
        base, token = lab
        driver.get(f"{base}/lab?reset&token={token}")  # one JupyterLab page for every notebook
        started = driver.execute_async_script(_WAIT_FOR_LAB)
        if started != "ok":
            pytest.fail(f"JupyterLab page: {started}")
        yield driver


# JavaScript run in the page. `jupyterapp` is exposed by --LabApp.expose_app_in_browser.
_WAIT_FOR_LAB = """
const done = arguments[arguments.length - 1];
const t0 = Date.now();
(async () => {
  while (!window.jupyterapp) {
    if (Date.now() - t0 > 60000) { return 'JupyterLab did not start in the page'; }
    await new Promise(r => setTimeout(r, 250));
  }
  await window.jupyterapp.started;
  await window.jupyterapp.restored;
  window.jupyterapp.shell.collapseLeft();
  return 'ok';
})().then(done, e => done('error: ' + e));
"""

# Open a notebook in the running app (no page reload) and wait until its kernel is ready.
_OPEN = """
const [name, done] = [arguments[0], arguments[arguments.length - 1]];
const app = window.jupyterapp;
(async () => {
  const panel = await app.commands.execute('docmanager:open', {path: name, factory: 'Notebook'});
  app.shell.activateById(panel.id);
  await panel.context.ready;
  await panel.sessionContext.ready;
  if (!panel.sessionContext.session || !panel.sessionContext.session.kernel) { return 'no kernel started'; }
  return 'ok';
})().then(done, e => done('error: ' + e));
"""

# Stop the notebook's kernel and close its panel without a save dialog (frees the CPU).
_CLOSE = """
const done = arguments[arguments.length - 1];
(async () => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (panel && panel.sessionContext) { await panel.sessionContext.shutdown(); panel.dispose(); }
  return 'ok';
})().then(done, e => done('error: ' + e));
"""

_RUN_ALL = """
const done = arguments[arguments.length - 1];
const app = window.jupyterapp;
(async () => {
  const panel = app.shell.currentWidget;
  const kernel = panel.sessionContext.session.kernel;
  await app.commands.execute('notebook:run-all-cells');
  const t0 = Date.now();  // run-all resolves when the last cell replied; wait for idle too
  while (kernel.status !== 'idle') {
    if (Date.now() - t0 > 30000) { return {status: kernel.status}; }
    await new Promise(r => setTimeout(r, 250));
  }
  // let images and widget views attach: until every <img> has loaded and the count is stable (<= 5 s)
  let last = -1;
  for (const t1 = Date.now(); Date.now() - t1 < 5000;) {
    await new Promise(r => setTimeout(r, 300));
    const imgs = Array.from(panel.content.node.querySelectorAll('.jp-OutputArea-output img'));
    if (imgs.length === last && imgs.every(im => im.complete)) { break; }
    last = imgs.length;
  }
  const cells = panel.content.model.cells;
  const report = {status: kernel.status, cells: []};
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') { continue; }
    const outputs = cell.outputs.toJSON();
    report.cells.push({
      index: i,
      count: cell.executionCount,
      errors: outputs.filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue),
    });
  }
  const node = panel.content.node;
  const imgs = Array.from(node.querySelectorAll('.jp-OutputArea-output img'));
  report.images = imgs.length;
  report.images_loaded = imgs.filter(im => im.complete && im.naturalWidth > 0).length;
  report.widgets = node.querySelectorAll('.jupyter-widgets.widget-slider, .jupyter-widgets.widget-dropdown').length;
  report.widget_errors = (node.innerText.match(/Error displaying widget/g) || []).length;
  return report;
})().then(done, e => done({error: String(e)}));
"""


_SCROLL_TO = """
const el = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) ' + arguments[0].split(', ').join(', .jp-NotebookPanel:not(.lm-mod-hidden) '));
if (!el) { return false; }
el.scrollIntoView({block: 'start'});
return true;
"""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_in_jupyterlab(browser, path):
    started = time.monotonic()
    opened = browser.execute_async_script(_OPEN, path.name)
    assert opened == "ok", f"{path.name}: {opened}"
    kernel_ready = time.monotonic()
    try:
        report = browser.execute_async_script(_RUN_ALL)
        ran = time.monotonic()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        browser.execute_script(_SCROLL_TO, ".jp-Cell")  # the top: question and parameters
        browser.save_screenshot(str(SCREENSHOTS / f"{path.stem}.png"))
        # the first widget (explorer) or figure, at the top of the view
        if browser.execute_script(_SCROLL_TO, ".jp-OutputArea-output .jupyter-widgets, .jp-OutputArea-output img"):
            time.sleep(0.3)
            browser.save_screenshot(str(SCREENSHOTS / f"{path.stem}-output.png"))
    finally:
        browser.execute_async_script(_CLOSE)
    elapsed = time.monotonic() - started
    print(f"{path.name}: {elapsed:.1f} s (kernel ready {kernel_ready - started:.1f} s, run all "
          f"{ran - kernel_ready:.1f} s), {report.get('images')} images, {report.get('widgets')} widgets")
    assert "error" not in report, f"{path.name}: {report['error']}"
    assert report["status"] == "idle", f"{path.name}: kernel {report['status']} after run-all"
    not_run = [c["index"] for c in report["cells"] if c["count"] is None]
    assert not not_run, f"{path.name}: cells {not_run} did not run"
    errors = {c["index"]: c["errors"] for c in report["cells"] if c["errors"]}
    assert not errors, f"{path.name}: error outputs {errors}"
    assert report["images"] >= 1, f"{path.name}: no figure rendered"
    assert report["images_loaded"] == report["images"], f"{path.name}: {report['images'] - report['images_loaded']} images did not load"
    assert report["widget_errors"] == 0, f"{path.name}: a widget failed to display"
    if path.name.startswith("00-explore"):
        assert report["widgets"] >= 3, f"{path.name}: explorer widgets did not render ({report['widgets']})"


def test_without_chromium_the_check_skips_locally_and_fails_in_ci(monkeypatch):
    monkeypatch.setattr(chrome, "missing", lambda: ["chromedriver"])
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromedriver not installed"):
        _require_browser()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set but chromedriver not installed"):
        _require_browser()
