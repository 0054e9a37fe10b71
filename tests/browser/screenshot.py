"""Headless Chromium for followerlab's browser checks and documentation screenshots.

One place for how Chromium is started (Debian's ``chromium`` through ``/usr/bin/chromedriver``,
the flags below, a fresh profile directory) so that the JupyterLab check and the screenshots
in ``docs/img`` see the same browser. As a script, it screenshots a page or an HTML file:

    .venv/bin/python tests/browser/screenshot.py reports/index.html docs/img/report.png
    .venv/bin/python tests/browser/screenshot.py URL out.png --width 1400 --height 900 --full-page
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import shutil
import sys
import tempfile
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else shutil.which("chromedriver")
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def missing() -> list[str]:
    """Which of chromium / chromedriver are not installed (empty when both are)."""
    return [name for name, path in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)) if not path]


@contextlib.contextmanager
def chromium(*, width: int = 1400, height: int = 1600, profile_dir: str | Path | None = None):
    """A Selenium Chrome driver on headless Chromium with a fresh profile; always quit after."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if missing():
        raise RuntimeError(f"{' and '.join(missing())} not installed (apt-get install -y chromium chromium-driver)")
    with contextlib.ExitStack() as stack:
        if profile_dir is None:
            profile_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="followerlab-chromium-"))
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile_dir}")
        options.add_argument(f"--window-size={width},{height}")
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def full_page_png(driver, path: str | Path, *, max_height: int = 6000) -> Path:
    """Save the whole page (up to ``max_height`` CSS pixels tall) as a PNG, via DevTools."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    width, height = int(size["width"]), min(int(size["height"]), max_height)
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
    })
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("page", help="a URL or a path to an HTML file")
    parser.add_argument("out", type=Path, help="PNG to write")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--full-page", action="store_true", help="the whole page, not only the window")
    args = parser.parse_args(argv)
    url = args.page if "://" in args.page else Path(args.page).resolve().as_uri()
    with chromium(width=args.width, height=args.height) as driver:
        driver.set_page_load_timeout(60)
        driver.get(url)
        if args.full_page:
            full_page_png(driver, args.out)
        else:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(args.out))
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
