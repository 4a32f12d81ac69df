"""`ovm-conformance simulate`: a described pool, faults played on the simulator, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "conformance", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False)


def test_example_pool_failover_is_reported() -> None:
    r = cli("simulate", "examples/pool.yaml", "crash:server2")
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line for line in r.stdout.splitlines() if line.startswith("vm")}
    assert "powered_off" in rows["vm1"], "vm1 prefers only server2: it must wait for it"
    assert "running on server3" in rows["vm4"], "vm4 fits only on server3 after server2 fails"
    assert "running on server1" in rows["vm3"], "vm3 (non-HA) was not on the failed server"


def test_bad_inputs_exit_2_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "pool.yaml"
    bad.write_text('release: "2.2"\nservers:\n  - {name: s1}\nguests:\n  - {name: vm1, preferred: [s9]}\n')
    for args, expected in [
        (("simulate", str(bad)), f"{bad}:5: guest 'vm1' prefers 's9'"),
        (("simulate", "examples/pool.yaml", "explode:server2"), "bad fault 'explode:server2'"),
        (("simulate", "examples/pool.yaml", "crash:server9"), "no server named 'server9'"),
        (("simulate", str(tmp_path / "missing.yaml")), "cannot read the file"),
    ]:
        r = cli(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert expected in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "Traceback" not in r.stderr
