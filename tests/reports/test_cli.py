"""`python -m conformance`: user errors are one line and exit 2; `run` reports and replays."""

from __future__ import annotations

import contextlib
import json
import shlex
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from report_helpers import read_report, scenario_rows
from sandbox_project import CATALOG, REPO, child_env, write_project

# The CLI with the sandbox's fake environment registered (as the sandbox's conftest does for pytest).
WITH_FAKE_ENV = (
    "import sys, environments; environments._REGISTRY['fake'] = 'fake_pool:FakeDriver'; "
    "from conformance.cli import main; sys.exit(main(sys.argv[1:]))"
)


def cli(*args: str, cwd: Path | None = None, fake_env: bool = False) -> subprocess.CompletedProcess[str]:
    head = [sys.executable, "-c", WITH_FAKE_ENV] if fake_env else [sys.executable, "-m", "conformance"]
    return subprocess.run(
        [*head, *args], cwd=cwd, env=child_env(), capture_output=True, text=True, check=False, timeout=300
    )


def assert_user_error(done: subprocess.CompletedProcess[str], expected: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert expected in lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "--release", "4.0"], "error: unknown Oracle VM release '4.0'"),
        (["run", "--env", "vmware"], "error: unknown environment 'vmware': choose one of"),
        (["run", "--seed", "abc"], "argument --seed: invalid int value: 'abc'"),
        (["run", "-n", "lots"], "-n: expected 'auto' or a number, got 'lots'"),
        (["run", "--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["rules", "--release", "2.3"], "unknown Oracle VM release '2.3'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["check", "/etc/hostname"], "cannot tell the file's format from its name; use --kind"),
        (["rules", "--", "-x"], "unexpected arguments after '--': -x"),
        # the CLI's own option names, not pytest's (--ovm-inventory)
        (["run", "--inventory", "pool.yaml"], "error: --inventory is for a real pool: use it with --env ssh"),
        (["run", "--env", "ssh"], "error: --env ssh needs the pool's inventory: --inventory pool.yaml"),
        # a run id names a directory inside the report directory, nothing else
        (["run", "--run-id", "../../escape"], "error: --run-id '../../escape': use letters, digits"),
        (["run", "--report-dir", "/proc/nope"], "error: --report-dir /proc/nope: cannot write there"),
        (["run", "--scenario", "nonexistent-words"], "--scenario 'nonexistent-words': no scenario's name"),
        (["run", "--features", "/nonexistent"], "error: --features /nonexistent: not a directory"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(args: list[str], expected: str, tmp_path: Path) -> None:
    done = cli(*args, cwd=tmp_path)
    assert_user_error(done, expected)
    assert not done.stdout, "nothing ran: the check happens before pytest starts"


def test_unwritable_or_misplaced_outputs_are_refused_before_the_run(tmp_path: Path) -> None:
    a_file = tmp_path / "results"
    a_file.write_text("not a directory")
    assert_user_error(
        cli("run", "--allure", str(a_file), cwd=tmp_path), f"--allure {a_file}: exists and is not"
    )
    assert_user_error(
        cli("run", "--report-dir", str(a_file), cwd=tmp_path), f"--report-dir {a_file}: exists and is not"
    )
    assert not (tmp_path / "reports").exists()


def test_binary_input_files_are_one_line(tmp_path: Path) -> None:
    blob = tmp_path / "pool.yaml"
    blob.write_bytes(bytes(range(256)) * 4)
    assert_user_error(cli("simulate", str(blob)), f"{blob}:1: not a text file")
    assert_user_error(cli("validate", "--inventory", str(blob)), f"{blob}:1: not a text file")
    assert_user_error(cli("rules", "--catalog", str(blob)), f"{blob}: not a text file")
    conf = tmp_path / "cluster.conf"
    conf.write_bytes(b"\xff\xfe\x00binary")
    unreadable = cli("check", str(conf))  # check's own table: 3, a file cannot be read
    assert unreadable.returncode == 3 and "Traceback" not in unreadable.stderr
    assert unreadable.stderr.strip() == f"{conf}: cannot read: not UTF-8 text (byte 0)"


def test_each_of_simulate_and_validate_names_the_other_when_given_its_file(tmp_path: Path) -> None:
    done = cli("validate", "--inventory", str(REPO / "examples" / "pool.yaml"))
    assert_user_error(done, "")
    assert "a pool definition for `simulate`" in done.stderr
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        "pool: p\nstorage: nfs\ncluster_root: nfs:/OVS\nssh: {known_hosts: kh}\n"
        "servers:\n  - {name: ovs1, host: 192.0.2.1}\n"
    )
    done = cli("simulate", str(inventory))
    assert_user_error(done, "")
    assert "an inventory for `validate`" in done.stderr


def test_version_and_the_bare_command() -> None:
    done = cli("--version")
    assert done.returncode == 0 and done.stdout.startswith("ovm-conformance ")
    bare = cli()
    assert bare.returncode == 0
    for command, example in [
        ("run", "ovm-conformance run --release 2.2"),
        ("rules", "ovm-conformance rules --release 3.x"),
        ("check", "ovm-conformance check /etc/ocfs2/cluster.conf"),
        ("simulate", "ovm-conformance simulate examples/pool.yaml crash:server2"),
        ("validate", "ovm-conformance validate --inventory"),
    ]:
        assert f"  {command} " in bare.stdout and example in bare.stdout, command
    assert "5  SUITE ERROR" in bare.stdout and "4  ENVIRONMENT ERROR" in bare.stdout


def test_check_documents_its_exit_codes() -> None:
    done = cli("check", "--help")
    assert (
        done.returncode == 0
        and "exit status: 0 valid, 1 problems found, 2 usage error, 3 a file" in done.stdout
    )


@pytest.mark.parametrize("command", ["run", "rules", "simulate", "validate"])
def test_every_command_documents_its_exit_codes(command: str) -> None:
    done = cli(command, "--help")
    assert done.returncode == 0
    for line in ("0  PASS", "1  FAIL", "2  a usage or input error", "3  INCOMPLETE", "4  ENVIRONMENT ERROR"):
        assert line in done.stdout, (command, line)


def test_rules_take_all_and_comma_lists(tmp_path: Path) -> None:
    catalog = tmp_path / "rules.yaml"
    catalog.write_text(CATALOG)
    every = cli("rules", "--catalog", str(catalog), "--release", "all")
    assert every.returncode == 0 and every.stdout.splitlines()[-1] == "5 of 5 rules"
    some = cli("rules", "--catalog", str(catalog), "--release", "2.1,3.x", "--format", "json")
    assert [r["id"] for r in json.loads(some.stdout)] == [
        "HA-RESTART",
        "HA-MASTER",
        "HA-OLD",
        "HA-BROKEN",
        "HA-UNTESTED",
    ]


def test_bad_catalog_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text(CATALOG.replace("kind: role", "kind: wish"))
    assert_user_error(cli("rules", "--catalog", str(bad)), f"{bad}:15: kind of rule HA-MASTER is 'wish'")


def test_rules_lists_the_catalog(tmp_path: Path) -> None:
    catalog = tmp_path / "rules.yaml"
    catalog.write_text(CATALOG)
    done = cli("rules", "--catalog", str(catalog), "--release", "2.1", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in json.loads(done.stdout)] == ["HA-RESTART", "HA-MASTER", "HA-OLD", "HA-BROKEN"]
    table = cli("rules", "--catalog", str(catalog)).stdout.splitlines()
    assert table[0].split() == ["ID", "RELEASES", "KIND", "CHECKS", "STATEMENT"]
    assert table[3].split()[:4] == ["HA-OLD", "2.1", "consideration", "read-only"]
    assert table[-1] == "5 of 5 rules"


@pytest.mark.slow
def test_run_reports_and_a_replay_reproduces_the_failure(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", layout="features")
    reports = tmp_path / "reports"
    common = ["--project", str(project), "--report-dir", str(reports)]
    done = cli("run", "--env", "fake", "--seed", "9", "--run-id", "full", "-q", *common, fake_env=True)
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    # short failures: where, the step, the check's words, the replay command; no pytest traceback
    assert "FAILED  features/failover.feature:29 [2.1]  A check that fails" in out
    assert "    step:   Then server2 runs 1 guests" in out
    assert "    why:    server2 runs [], expected 1 guests" in out
    assert "Traceback" not in out and "call_fixture_func" not in out and "def runs_n" not in out
    # the closing summary: verdict, each failed rule with its replay command, where the report is
    closing = out[out.index("FAIL: 4 of 5 applicable rules run") :].splitlines()
    assert (
        closing[0]
        == "FAIL: 4 of 5 applicable rules run (3 passed, 1 failed); 1 not run: HA-UNTESTED; 15 scenario runs"
    )
    assert closing[1] == "rules that did not pass, with the command that replays each:"
    assert closing[2].split()[:3] == ["failed", "HA-BROKEN", "python3"]
    assert closing[-1] == f"report: {reports / 'full' / 'index.html'}"

    failed = next(s for s in scenario_rows(read_report(tmp_path, "full")) if s["status"] == "failed")
    argv = shlex.split(failed["replay"])
    assert argv[:4] == ["python3", "-m", "conformance", "run"]
    replay = cli(*argv[3:], "--run-id", "replay", *common, fake_env=True)
    assert replay.returncode == 1, replay.stdout + replay.stderr
    (again,) = [s for s in scenario_rows(read_report(tmp_path, "replay")) if s["status"] != "not-run"]
    assert (again["nodeid"], again["seed"], again["status"], again["message"]) == (
        failed["nodeid"],
        failed["seed"],
        "failed",
        failed["message"],
    )
    assert (reports / "latest").resolve() == (reports / "full").resolve(), "a replay does not move latest"
    # the same run id again is refused before anything runs; --force replaces it
    refused = cli(*argv[3:], "--run-id", "replay", *common, fake_env=True)
    assert_user_error(refused, "replay already exists: choose another --run-id, or add --force")
    forced = cli(*argv[3:], "--run-id", "replay", "--force", "--latest", *common, fake_env=True)
    assert forced.returncode == 1
    assert (reports / "latest").resolve() == (reports / "replay").resolve(), "--latest moves it"


@pytest.mark.slow
def test_run_selects_scenarios_by_name_and_says_partial(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", layout="features")
    done = cli(
        "run",
        "--env=fake",
        "--release=3.x",
        "--scenario",
        "A crashed server's guest restarts",
        "--project",
        str(project),
        "--report-dir",
        str(tmp_path / "reports"),
        "--run-id=one",
        fake_env=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = scenario_rows(read_report(tmp_path, "one"))
    assert [(s["name"], s["release"], s["status"]) for s in rows] == [
        ("A crashed server's guest restarts on another server", "3.x", "passed")
    ]
    assert (
        "PARTIAL: 1 of 4 applicable rules run (1 passed); 3 not run: not selected (--scenario " in done.stdout
    )
    assert "PASS" not in done.stdout.replace("PASSED", "")


def test_validate_against_a_port_that_does_not_speak_ssh_is_one_line(tmp_path: Path) -> None:
    pytest.importorskip("paramiko", reason="validate needs the ssh extra (paramiko)")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def answer() -> None:
        with contextlib.suppress(OSError):
            for _ in range(4):
                conn, _ = listener.accept()
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
                conn.close()

    threading.Thread(target=answer, daemon=True).start()
    (tmp_path / "known_hosts").write_text("")
    (tmp_path / "id_test").write_text("not used: the banner fails first\n")
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        "pool: p\nstorage: nfs\ncluster_root: nfs:/OVS\nrelease: '2.2'\n"
        f"ssh: {{known_hosts: known_hosts, key_file: id_test, port: {port}, connect_timeout_s: 3}}\n"
        "servers:\n  - {name: ovs1, host: 127.0.0.1, fqdn: ovs1.example.com, ip: 127.0.0.1}\n"
    )
    try:
        done = cli(
            "validate", "--inventory", str(inventory), "--report-dir", str(tmp_path / "r"), cwd=tmp_path
        )
    finally:
        listener.close()
    assert "Traceback" not in done.stdout + done.stderr
    assert "ovs1 (127.0.0.1): connecting ... unreachable" in done.stdout, "progress per server"
    assert done.returncode == 4, done.stdout + done.stderr  # no server answers: an environment error
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("environment error: "), line


MY_FEATURE = """\
Feature: My own checks of master take-over

  @rule:MASTER-TAKEOVER-22 @release:2.2 @destructive
  Scenario: The master's HA guest comes back after the master fails
    Given a clustered server pool of 3 servers on NFS shared storage with HA enabled on the pool
    And a guest vm1 with HA enabled running on server1
    When the server pool master fails
    Then another server becomes the server pool master within the failover bound
    And guest vm1 is running on another server within the failover bound
"""


@pytest.mark.slow
def test_a_users_own_feature_folder_runs_with_the_suites_steps_from_any_directory(tmp_path: Path) -> None:
    mine = tmp_path / "my-features"
    mine.mkdir()
    (mine / "takeover.feature").write_text(MY_FEATURE)
    work = tmp_path / "work"
    work.mkdir()
    (work / "pytest.ini").write_text("[pytest]\naddopts = --no-such-option\n")  # not the suite's settings
    (work / "conftest.py").write_text("raise RuntimeError('a conftest of the directory run from')\n")
    done = cli("run", "--features", str(mine), "--release", "2.2", "--run-id", "mine", cwd=work)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((work / "reports" / "mine" / "conformance.json").read_text())
    (scenario,) = scenario_rows(report)
    assert scenario["feature"] == "my-features/takeover.feature" and scenario["status"] == "passed"
    assert f"--features {mine}" in scenario["replay"]
    assert report["verdict"] == "PARTIAL", "one rule of the catalog run: never PASS of every rule"
