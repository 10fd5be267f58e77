"""Headless Chromium, to see the proof page as a reader's browser draws it: its DOM after parsing, and a screenshot.

    python -m genspec.reports.browser reports/proof.html docs/proof-page.png

Chromium is started with a fresh profile and without its background connections, so it needs no
network and leaves nothing behind.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
QUIET = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def find() -> str | None:
    """The first Chromium on PATH, or None."""
    return next((found for found in map(shutil.which, NAMES) if found), None)


def dump_dom(page: Path, timeout: float = 120) -> str:
    """The page's DOM as Chromium serialises it after loading it."""
    return _run(["--dump-dom", page.resolve().as_uri()], timeout).stdout


def screenshot(page: Path, png: Path, width: int = 1280, height: int = 2000, timeout: float = 120) -> Path:
    """A PNG of the page's first `height` pixels at `width`, as Chromium renders it."""
    png.parent.mkdir(parents=True, exist_ok=True)
    _run([f"--window-size={width},{height}", f"--screenshot={png.resolve()}", page.resolve().as_uri()], timeout)
    if not png.exists():
        raise RuntimeError(f"Chromium wrote no screenshot of {page}")
    return png


def _run(arguments: list[str], timeout: float) -> subprocess.CompletedProcess:
    executable = find()
    if executable is None:
        raise FileNotFoundError(f"no Chromium found (looked for {', '.join(NAMES)}): install Debian's chromium package")
    with tempfile.TemporaryDirectory(prefix="genspec-chromium-") as profile:
        return subprocess.run([executable, *QUIET, f"--user-data-dir={profile}", *arguments],
                              capture_output=True, text=True, timeout=timeout, check=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genspec.reports.browser", description="A screenshot of a proof page in headless Chromium.")
    parser.add_argument("page", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=2000)
    arguments = parser.parse_args(argv)
    print(screenshot(arguments.page, arguments.png, arguments.width, arguments.height))
    return 0


if __name__ == "__main__":
    sys.exit(main())
