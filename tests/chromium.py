"""Headless Debian Chromium for the browser tests (the rendered book, the annotation app).

Explicit binary and driver paths, so Selenium Manager never tries to download a browser; a fresh profile per session.
"""
import contextlib, shutil, tempfile, time
from pathlib import Path

import pytest

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
INSTALL = "apt-get update && apt-get install -y chromium chromium-driver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage")


@contextlib.contextmanager
def headless_chromium(width: int, height: int):
    "A Selenium driver for headless Chromium at `width`x`height`; fails (never skips) when Chromium is missing"
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing: pytest.fail(f"{' and '.join(missing)} not found: install them with `{INSTALL}` (as root).")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for a in (*FLAGS, f"--window-size={width},{height}"): opts.add_argument(a)
    profile = tempfile.mkdtemp(prefix="nlpbook-chromium-")
    opts.add_argument(f"--user-data-dir={profile}")
    drv = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=opts)
    drv.set_page_load_timeout(60)
    try: yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(cond, timeout=20, what="condition", every=0.1):
    "Poll `cond()` every `every` seconds until it is truthy; fail naming `what` after `timeout` seconds"
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            v = cond()
            if v: return v
        except Exception: pass  # the page is re-rendering: elements come and go between reruns
        time.sleep(every)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")
