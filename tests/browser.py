"""Headless Chromium (Debian's package) for the tests of the HTML pages: a screenshot as
pixels. Skipped when Chromium is not installed, unless GIAMNGHEO_REQUIRE_BROWSER=1 (CI sets it
and installs the package), in which case a missing browser fails the test."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--force-device-scale-factor=1"]  # fmt: skip


def chromium() -> str:
    found = os.environ.get("GIAMNGHEO_CHROMIUM") or shutil.which("chromium") or shutil.which(
        "chromium-browser")  # fmt: skip
    if found is None:
        if os.environ.get("GIAMNGHEO_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required here (GIAMNGHEO_REQUIRE_BROWSER=1) but not found: "
                        "apt-get install chromium")  # fmt: skip
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return found


def screenshot(page: Path, out: Path, width: int, height: int) -> np.ndarray:
    from PIL import Image

    browser = chromium()
    done = subprocess.run([browser, *FLAGS, f"--user-data-dir={out.parent / 'profile'}",
                           f"--window-size={width},{height}", f"--screenshot={out}",
                           page.as_uri()], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0 and out.exists(), done.stderr[-2000:]
    with Image.open(out) as image:
        return np.asarray(image.convert("RGB"))


def colour_pixels(pixels: np.ndarray, hex_colour: str) -> int:
    rgb = tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return int((pixels == np.array(rgb, dtype=np.uint8)).all(axis=2).sum())
