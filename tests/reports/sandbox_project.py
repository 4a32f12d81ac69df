"""The files of a sandbox project: a catalog, a .feature, steps and a fake pool driver.

Tests run pytest inside it (with `pytester` or the CLI), exactly as a user
runs the suite, and then read the report files it wrote.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

CATALOG = """\
documents:
  ug21: {title: "User's Guide 2.1, ch. 9 HA", seed: "ug21.txt"}
  con30: {title: "Concepts Guide 3.0, 6.10 HA", seed: "con30.txt"}
rules:
  - id: HA-RESTART
    statement: "Guests of a failed server restart on another server."
    releases: ["2.1", "2.2", "3.x"]
    kind: scenario
    checks: destructive
    sources:
      - {doc: ug21, section: "9.1 High Availability (HA)", quote: "the guests are migrated or restarted"}
  - id: HA-MASTER
    statement: "Another server takes the master role."
    releases: ["2.1", "2.2", "3.x"]
    kind: role
    checks: destructive
    sources:
      - {doc: con30, section: "6.10", quote: "takes over the master role"}
  - id: HA-OLD
    statement: "A rule only the 2.1 guide states."
    releases: ["2.1"]
    kind: consideration
    checks: read-only
    sources:
      - {doc: ug21, section: "9.1", quote: "HA also fails"}
  - id: HA-BROKEN
    statement: "A rule the fake pool violates <on purpose> & visibly."
    releases: ["2.1", "2.2", "3.x"]
    kind: placement
    checks: configuration
    sources:
      - {doc: ug21, section: "9.1", quote: "restarted"}
  - id: HA-UNTESTED
    statement: "A rule no scenario checks."
    releases: ["2.2", "3.x"]
    kind: prerequisite
    checks: read-only
    sources:
      - {doc: con30, section: "6.10", quote: "master role"}
"""

SCENARIO_STEPS = """
    Given a pool of 2 servers with guest vm1 on server1
    Then server1 runs 1 guests
"""

FEATURE_HEAD = """\
Feature: HA failover on a fake pool

  @rule:HA-RESTART @destructive
  Scenario: A crashed server's guest restarts on another server
    Given a pool of 2 servers with guest vm1 on server1
    When server1 crashes
    Then vm1 runs on server2 within the failover bound

  @rule:HA-MASTER @release:2.2
  Scenario: Only stated for 2.2
{steps}
  @rule:HA-OLD
  Scenario: A rule only stated for 2.1
{steps}
  @rule:HA-RESTART @env:sim
  Scenario: Only meaningful on the simulator
{steps}
"""

FAILING_SCENARIO = """
  @rule:HA-BROKEN
  Scenario: A check that fails
    Given a pool of 2 servers with guest vm1 on server1
    Then server2 runs 1 guests
"""

STEPS = """
from pytest_bdd import given, parsers, scenarios, then, when

from environments.model import GuestSpec, PoolSpec, ServerSpec

scenarios("failover.feature")


@given(parsers.parse("a pool of {n:d} servers with guest {guest} on {server}"), target_fixture="pool")
def pool(ovm_driver, n, guest, server):
    ovm_driver.build_pool(PoolSpec(servers=tuple(ServerSpec(f"server{i + 1}") for i in range(n))))
    ovm_driver.create_guest(GuestSpec(guest, preferred=(server,)))
    ovm_driver.advance(3000)
    return ovm_driver


@when(parsers.parse("{server} crashes"))
def crash(pool, server):
    pool.inject("crash", [server])


@then(parsers.parse("{guest} runs on {server} within the failover bound"))
def runs_on(pool, guest, server):
    def there(state):
        g = state.guests[guest]
        return g.server == server and g.state == "running"

    assert pool.wait_until(there, pool.failover_bound_ms("crash"))


@then(parsers.parse("{server} runs {n:d} guests"))
def runs_n(pool, server, n):
    running = pool.observe().running_on(server)
    assert len(running) == n, f"{server} runs {running}, expected {n} guests"
"""

SANDBOX_CONFTEST = """
import environments

environments._REGISTRY["fake"] = "fake_pool:FakeDriver"

pytest_plugins = ["conformance.plugin"]
"""

# `ovm-conformance run --project` loads the plugins itself (-p) and the conftest of features/ only
FEATURES_CONFTEST = """
import environments

environments._REGISTRY["fake"] = "fake_pool:FakeDriver"
"""


INI = """\
[pytest]
addopts = -p no:cacheprovider --ovm-env=fake --ovm-catalog={catalog}
"""


def sandbox_files(failing: bool = True, feature: str | None = None, layout: str = "flat") -> dict[str, str]:
    """Relative path -> text of every file of the sandbox project.

    `flat` puts everything in one directory (pytester); `features` mirrors an
    installed suite (features/test_features.py, features/rules.yaml) for the CLI.
    """
    feature_text = feature or FEATURE_HEAD.format(steps=SCENARIO_STEPS) + (
        FAILING_SCENARIO if failing else ""
    )
    if layout == "features":
        return {
            "features/failover.feature": feature_text,
            "features/rules.yaml": CATALOG,
            "features/test_features.py": STEPS,
            "features/fake_pool.py": (HERE / "fake_pool.py").read_text(),
            "features/conftest.py": FEATURES_CONFTEST,
        }
    return {
        "failover.feature": feature_text,
        "rules.yaml": CATALOG,
        "test_failover.py": STEPS,
        "fake_pool.py": (HERE / "fake_pool.py").read_text(),
        "conftest.py": SANDBOX_CONFTEST,
        "pytest.ini": INI.format(catalog="rules.yaml"),
    }


def write_project(root: Path, failing: bool = True, layout: str = "flat", feature: str | None = None) -> Path:
    for name, text in sandbox_files(failing, feature=feature, layout=layout).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def child_env() -> dict[str, str]:
    """Environment for a pytest or CLI subprocess: this checkout importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO)
    env.pop("PYTEST_ADDOPTS", None)
    return env
