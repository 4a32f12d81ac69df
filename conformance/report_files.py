"""Write a run's report directory atomically and point `latest` at it.

Everything is rendered into a hidden temporary directory first and renamed
into place, so an interrupted run never leaves a half-written report that a
reader (or `latest`) could mistake for a finished one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from conformance.render_cucumber import render_cucumber
from conformance.render_html import render_html
from conformance.render_json import render_json
from conformance.render_junit import render_junit
from conformance.report_model import ConformanceReport

JSON_NAME = "conformance.json"
HTML_NAME = "index.html"
JUNIT_NAME = "junit.xml"
CUCUMBER_NAME = "cucumber.json"
SUMMARY_NAME = "summary.txt"  # the closing summary, as the console printed it
LATEST_LINK = "latest"
LATEST_POINTER = "latest.txt"


@dataclass(frozen=True)
class ReportPaths:
    run_dir: Path

    @property
    def json(self) -> Path:
        return self.run_dir / JSON_NAME

    @property
    def html(self) -> Path:
        return self.run_dir / HTML_NAME

    @property
    def junit(self) -> Path:
        return self.run_dir / JUNIT_NAME

    @property
    def cucumber(self) -> Path:
        return self.run_dir / CUCUMBER_NAME

    @property
    def summary(self) -> Path:
        return self.run_dir / SUMMARY_NAME


def write_report(
    report: ConformanceReport, report_dir: Path, *, latest: bool = True, summary: list[str] | None = None
) -> ReportPaths:
    """Render every file into `<report_dir>/<run_id>/`; point `latest` at it when asked.

    An existing directory of the same run id is replaced: the plugin and the
    CLI refuse that before the run starts unless --force was given."""
    report_dir.mkdir(parents=True, exist_ok=True)
    final = report_dir / report.run.run_id
    staging = Path(tempfile.mkdtemp(prefix=f".{report.run.run_id}.", dir=report_dir))
    try:
        files = [
            (JSON_NAME, render_json(report)),
            (HTML_NAME, render_html(report)),
            (JUNIT_NAME, render_junit(report)),
            (CUCUMBER_NAME, render_cucumber(report)),
        ]
        if summary is not None:
            files.append((SUMMARY_NAME, "\n".join(summary) + "\n"))
        for name, text in files:
            (staging / name).write_text(text, encoding="utf-8")
        staging.chmod(0o755)
        if final.exists():  # the same run id reported again (--force)
            shutil.rmtree(final)
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if latest:
        point_latest(report_dir, final.name)
    return ReportPaths(final)


def point_latest(report_dir: Path, run_name: str) -> None:
    """`latest` -> run dir as a relative symlink (swapped atomically); `latest.txt` where links fail."""
    link = report_dir / LATEST_LINK
    tmp_link = report_dir / f".{LATEST_LINK}.{os.getpid()}"
    try:
        with contextlib.suppress(FileNotFoundError):
            tmp_link.unlink()
        tmp_link.symlink_to(run_name, target_is_directory=True)
        os.replace(tmp_link, link)
        return
    except OSError:
        with contextlib.suppress(OSError):
            tmp_link.unlink()
    write_text_atomic(report_dir / LATEST_POINTER, run_name + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def latest_run_dir(report_dir: Path) -> Path | None:
    """The newest run directory, through `latest` or `latest.txt`."""
    link = report_dir / LATEST_LINK
    if link.is_symlink() or link.is_dir():
        return link.resolve()
    pointer = report_dir / LATEST_POINTER
    if pointer.is_file():
        return report_dir / pointer.read_text(encoding="utf-8").strip()
    return None
