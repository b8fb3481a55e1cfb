"""Open the built site in headless Chromium and check that pages show their figures.

Run by hand after building the site (it is not part of CI: CI's machine has no
Chromium unless ``apt-get install -y chromium`` is run there)::

    sphinx-build -W --keep-going -b html docs docs/_build/html
    python docs/check_in_browser.py            # screenshots in docs/_build/screenshots/

For the front page, an API page and a gallery page it

1. loads a copy of the page with a small script added (in the same folder, so relative
   links resolve; removed afterwards), lets Chromium load it, and reads back from the
   DOM how many images the article has and how many of them Chromium failed to decode
   (``naturalWidth == 0``);
2. takes a screenshot of the page itself, 1280 pixels wide.

It exits with status 1, naming the page, when a page is missing, its article shows no
image, an image does not load, or no screenshot is written; 2 when Chromium is absent.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent

#: page (relative to the HTML root) -> (screenshot name, window height in pixels)
PAGES = {
    "index.html": ("front_page.png", 1600),
    "generated/sklearn_lnp.linear_model.PoissonLNPRegressor.html": (
        "api_PoissonLNPRegressor.png",
        1600,
    ),
    # tall enough to show the example's figure below its code and output
    "auto_examples/plot_fit_rf_exposure.html": ("gallery_fit_rf_exposure.png", 2600),
}

PROBE = """
<script>
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.querySelectorAll("article img"));
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  var marker = document.createElement("pre");
  marker.id = "browser-check";
  marker.textContent = "BROWSER-CHECK images=" + imgs.length + " broken=" + broken.length +
    " srcs=" + broken.map(function (i) { return i.getAttribute("src"); }).join(",");
  document.body.appendChild(marker);
});
</script>
"""


def chromium_command() -> list[str]:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return [
                path,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}",
            ]
    raise FileNotFoundError("chromium not found (apt-get install -y chromium)")


def probe_images(browser: list[str], page: Path) -> tuple[int, int, str]:
    """(images in the article, images that failed to load, their src) as Chromium sees them."""
    html = page.read_text(encoding="utf-8")
    probe = page.with_name(f".browser-check-{page.name}")
    probe.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    try:
        result = subprocess.run(
            [*browser, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        probe.unlink()
    match = re.search(r"BROWSER-CHECK images=(\d+) broken=(\d+) srcs=([^<]*)", result.stdout)
    if match is None:
        raise RuntimeError(f"Chromium returned no DOM for {page}: {result.stderr[-500:]}")
    return int(match.group(1)), int(match.group(2)), match.group(3)


def screenshot(browser: list[str], page: Path, out: Path, height: int) -> None:
    out.unlink(missing_ok=True)
    subprocess.run(
        [*browser, f"--screenshot={out}", f"--window-size=1280,{height}", page.as_uri()],
        capture_output=True,
        timeout=120,
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=DOCS / "_build" / "html")
    parser.add_argument("--out", type=Path, default=DOCS / "_build" / "screenshots")
    args = parser.parse_args(argv)
    try:
        browser = chromium_command()
    except FileNotFoundError as error:
        print(f"browser check: {error}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    failures = []
    for relative, (name, height) in PAGES.items():
        page = (args.html / relative).resolve()
        if not page.is_file():
            failures.append(f"{relative}: page missing (build the site first)")
            continue
        n_images, n_broken, broken = probe_images(browser, page)
        shot = args.out / name
        screenshot(browser, page, shot, height)
        ok_shot = shot.is_file() and shot.stat().st_size > 10_000
        print(
            f"{relative}: {n_images} images in the article, {n_broken} not loaded; "
            f"screenshot {shot if ok_shot else 'MISSING'}"
        )
        if n_images == 0:
            failures.append(f"{relative}: no image in the article")
        if n_broken:
            failures.append(f"{relative}: {n_broken} images did not load: {broken}")
        if not ok_shot:
            failures.append(f"{relative}: no screenshot written")
    for failure in failures:
        print(f"browser check FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
