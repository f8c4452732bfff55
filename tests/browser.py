"""Headless Chromium for the tests of the HTML pages: whether it is here, and whether a page
loads in it with every image and no script error (the pages record both in ``<body>``)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path


def chromium() -> str | None:
    """The Chromium executable, or None (``.ci/run`` installs Debian's)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def browser_flags(profile: Path) -> list[str]:
    """Headless, no sandbox, no background connections (the network is closed: Chromium
    would retry), its profile in ``profile``."""
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]


def _dom(browser: str, page: Path, profile: Path) -> str:
    result = subprocess.run(
        [
            browser,
            *browser_flags(profile),
            "--allow-file-access-from-files",
            "--virtual-time-budget=10000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def assert_page_loads(browser: str, page: Path, profile: Path, images: bool = True) -> None:
    """The page loads in headless Chromium with every image and no script error (and holds
    an image, unless ``images`` is False)."""
    dom = _dom(browser, page, profile)
    body = re.search(r"<body([^>]*)>", dom).group(1)
    assert 'data-checked="yes"' in body, (page, body)
    assert 'data-missing-images=""' in body, (page, body)
    assert 'data-script-errors=""' in body, (page, body)
    assert "<img" in dom or not images, page
