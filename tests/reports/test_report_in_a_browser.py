"""index.html in a real browser (Debian's chromium and chromium-driver, through selenium): the full
simulated run's report is under a megabyte, nothing overflows at 900 px, the filters work, and a
passing run's timeline is drawn when its scenario is opened.

Skipped, naming what is missing, where no browser is installed (.ci/run installs one).
`OVM_SCREENSHOTS=DIR` keeps screenshots at 1400 and 900 px there.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_project import REPO, child_env, write_project

CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).exists()), ""
)
DRIVER = next(
    (p for p in ("/usr/bin/chromedriver", shutil.which("chromedriver") or "") if p and Path(p).exists()), ""
)
MISSING = [
    name
    for name, present in (
        ("chromium (apt-get install chromium)", bool(CHROMIUM)),
        ("chromium-driver (apt-get install chromium-driver)", bool(DRIVER)),
        ("selenium (pip install selenium)", importlib.util.find_spec("selenium") is not None),
    )
    if not present
]
MEGABYTE = 1_000_000

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's first command, every release on the simulator: its index.html."""
    out = tmp_path_factory.mktemp("full")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance",
            "run",
            "--release",
            "all",
            "-q",
            "--report-dir",
            str(out),
            "--run-id",
            "full",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    page = out / "full" / "index.html"
    assert page.is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    return page


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sandbox project's run, with a rule that fails."""
    root = write_project(tmp_path_factory.mktemp("failing"))
    subprocess.run(
        [sys.executable, "-m", "pytest", "--ovm-run-id=f"],
        cwd=root,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    page = root / "reports" / "f" / "index.html"
    assert page.is_file()
    return page


def test_the_full_run_report_is_under_a_megabyte(full_run: Path) -> None:
    size = full_run.stat().st_size
    print(f"index.html of the full simulated run: {size} bytes")
    assert size < MEGABYTE, f"{size} bytes"
    page = full_run.read_text()
    assert page.count("<style>") == 1, "one style sheet for the page and every timeline"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if MISSING:
        pytest.skip("no browser to test the report in: missing " + ", ".join(MISSING))
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.binary_location = CHROMIUM
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _open(browser: Any, page: Path, width: int, height: int = 1000) -> None:
    browser.set_window_size(width, height)
    browser.get(page.as_uri())
    browser.execute_script("return document.readyState")


def _screenshot(browser: Any, name: str) -> None:
    keep = os.environ.get("OVM_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(keep) / name))


OVERFLOW = """
const doc = document.scrollingElement;
const wide = [doc.scrollWidth - doc.clientWidth];
for (const el of document.querySelectorAll('.tl, pre, table, summary')) {
  if (el.offsetParent) wide.push(el.scrollWidth - el.clientWidth);
}
return Math.max(...wide);
"""


def test_nothing_runs_off_the_right_edge_at_900_px(browser: Any, full_run: Path, failing_run: Path) -> None:
    for page in (full_run, failing_run):
        _open(browser, page, 900)
        browser.execute_script("document.getElementById('expand').click()")
        assert browser.execute_script(OVERFLOW) <= 1, f"{page}: something is wider than the window"
    _open(browser, failing_run, 900)
    _screenshot(browser, "report-900px.png")
    _open(browser, failing_run, 1400)
    _screenshot(browser, "report-1400px.png")


def test_the_status_and_rule_filters_hide_what_does_not_match(browser: Any, failing_run: Path) -> None:
    _open(browser, failing_run, 1400)
    visible = (
        "return [...document.querySelectorAll('.filterable')].filter(e => !e.hidden).map(e => e.dataset.runs)"
    )
    every = browser.execute_script(visible)
    for status in ("passed", "not-applicable", "not-run"):
        browser.execute_script(
            f"const box = document.querySelector('input[name=status][value={status}]');"
            "box.checked = false; box.dispatchEvent(new Event('input', {bubbles: true}));"
        )
    failed_only = browser.execute_script(visible)
    assert 0 < len(failed_only) < len(every)
    assert all("failed" in runs for runs in failed_only)
    browser.execute_script(
        "const f = document.getElementById('filters'); f.elements.rule.value = 'HA-BROKEN';"
        "f.dispatchEvent(new Event('input', {bubbles: true}));"
    )
    rules = browser.execute_script(
        "return [...document.querySelectorAll('details.rule')].filter(e => !e.hidden).map(e => e.id)"
    )
    assert rules == ["rule-HA-BROKEN"]
    assert "showing 1 rules" in browser.find_element("id", "shown").text


def test_a_passing_timeline_is_drawn_when_its_scenario_is_opened(browser: Any, failing_run: Path) -> None:
    _open(browser, failing_run, 1400)
    drawn = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const slot = document.querySelector('.tl-lazy');
        if (!slot) { done('no lazy timeline'); return; }
        const scenario = slot.closest('details.scenario');
        scenario.open = true;
        setTimeout(() => done(slot.querySelector('svg') ? 'svg' : slot.textContent), 1500);
        """
    )
    assert drawn == "svg"
