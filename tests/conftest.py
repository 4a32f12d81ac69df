"""Shared test setup: `pytester` lets plugin tests run pytest in a sandbox, as a user would.

Hypothesis's per-example deadline (200 ms by default) is a timed unit test: on a loaded CI
machine a correct example can take longer, and the run fails for a reason that is not a defect.
Speed targets live in benchmarks/, so the project's profile turns the deadline off.
"""

from hypothesis import settings

pytest_plugins = ["pytester"]

settings.register_profile("ovm", deadline=None)
settings.load_profile("ovm")
