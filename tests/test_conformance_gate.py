"""The reference implementation conforms: the whole suite on the simulated pool, every release.

This is the README's first command, run as CI would; a rule that fails or is
left untested on every release fails this test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_every_rule_passes_on_the_simulated_pool(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--env", "sim", "--release", "all", "-q",
         "--report-dir", str(tmp_path), "--run-id", "gate"],
        cwd=REPO, capture_output=True, text=True, timeout=900, check=False,
    )
    report_path = tmp_path / "gate" / "conformance.json"
    assert report_path.is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(report_path.read_text())
    failed = [(r["id"], s["nodeid"], s["message"][:200]) for r in report["rules"] for s in r["scenarios"]
              if s["status"] in ("failed", "error")]
    assert not failed, "\n".join(map(str, failed))
    untested = [r["id"] for r in report["rules"] if r["status"] not in ("passed", "not-applicable")]
    assert not untested, f"rules neither passed nor not applicable: {untested}"
    assert done.returncode == 0, done.stdout[-2000:]
    assert sorted(report["releases"]) == ["2.1", "2.2", "3.x"]
    for name in ("index.html", "junit.xml"):
        assert (tmp_path / "gate" / name).is_file()
